import type { Config } from '../../config.js';
import type { TelegramChannelOptions } from './index.js';

/** What the configuration enables: the channel's own options, or why it is off. */
export type TelegramSettings = { on: Omit<TelegramChannelOptions, 'service' | 'logger' | 'stores'> } | { off: string };

/** Reads the Telegram variables: off without a token, or in webhook mode without a secret. */
export function telegramSettings(config: Config): TelegramSettings {
  if (!config.TELEGRAM_BOT_TOKEN) return { off: 'TELEGRAM_BOT_TOKEN is not set' };
  if (config.TELEGRAM_MODE === 'webhook' && !config.TELEGRAM_WEBHOOK_SECRET) return { off: 'TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET' };
  return {
    on: {
      token: config.TELEGRAM_BOT_TOKEN,
      mode: config.TELEGRAM_MODE,
      ...(config.TELEGRAM_WEBHOOK_SECRET ? { webhookSecret: config.TELEGRAM_WEBHOOK_SECRET } : {}),
      ...(config.TELEGRAM_WEBHOOK_URL ? { webhookUrl: config.TELEGRAM_WEBHOOK_URL } : {}),
      ...(config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT } : {}),
    },
  };
}
