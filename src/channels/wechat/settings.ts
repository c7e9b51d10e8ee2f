import type { Config } from '../../config.js';
import type { WechatChannelOptions } from './index.js';

/** What the configuration enables: the channel's own options, or why it is off. */
export type WechatSettings = { on: Omit<WechatChannelOptions, 'service' | 'logger' | 'stores'>; warnings: string[] } | { off: string };

/** Reads the WeChat variables: off without WECHAT_TOKEN and WECHAT_APP_ID; warns what a missing secret costs. */
export function wechatSettings(config: Config): WechatSettings {
  if (!config.WECHAT_TOKEN || !config.WECHAT_APP_ID) return { off: 'WECHAT_TOKEN and WECHAT_APP_ID are not both set' };
  const warnings = config.WECHAT_APP_SECRET ? [] : ['WECHAT_APP_SECRET is not set: replies slower than 5 s wait for WeChat\'s retry, and agent messages cannot reach WeChat users'];
  return {
    on: {
      token: config.WECHAT_TOKEN,
      appId: config.WECHAT_APP_ID,
      ...(config.WECHAT_APP_SECRET ? { appSecret: config.WECHAT_APP_SECRET } : {}),
      ...(config.WECHAT_ENCODING_AES_KEY ? { encodingAESKey: config.WECHAT_ENCODING_AES_KEY } : {}),
      ...(config.WECHAT_API_BASE ? { apiBase: config.WECHAT_API_BASE } : {}),
    },
    warnings,
  };
}
