import type { FastifyInstance } from 'fastify';
import { XMLParser } from 'fast-xml-parser';
import { createChannelRegistry } from '../../src/channels/registry.js';
import { createWechatChannel, wechatSignature } from '../../src/channels/wechat/index.js';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { FakeWechatApi } from '../fakes/wechat-api.js';
import { channelContract, menuNumber, type Seen } from './contract.js';

const TOKEN = 'contractToken';
const APP_ID = 'wxcontract000001';
const reader = new XMLParser({ parseTagValue: false, processEntities: false });

/** WeChat as a follower sees it: pushes posted to /wechat, the passive reply, and 客服消息 from the fake API. */
channelContract('wechat (passive XML + fake 客服消息 API)', async ({ kb, classifier }) => {
  const wx = await new FakeWechatApi(APP_ID, 'contract-secret').listen();
  const stores = createMemoryStores();
  const logger = createLogger('silent');
  const channels = createChannelRegistry();
  const service = createConversationService({ kb, classifier, stores, logger, channels });
  const adapter = createWechatChannel({ service, token: TOKEN, appId: APP_ID, appSecret: 'contract-secret', apiBase: wx.url, logger, stores });
  channels.add(adapter);
  const app: FastifyInstance = await buildServer({ service, stores, logger, channels: [adapter] });
  await app.ready();
  const openid = `oContract${Math.floor(Math.random() * 1e9)}`;
  let msgId = 1;
  let last: string[] = [];

  async function say(text: string): Promise<Seen> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(msgId);
    const query = new URLSearchParams({ signature: wechatSignature(TOKEN, timestamp, nonce), timestamp, nonce, openid }).toString();
    const xml = `<xml><ToUserName><![CDATA[gh_contract]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${++msgId}</MsgId></xml>`;
    const before = wx.messages.length;
    const res = await app.inject({ method: 'POST', url: `/wechat?${query}`, headers: { 'content-type': 'text/xml' }, payload: xml });
    if (res.statusCode !== 200) throw new Error(`wechat answered ${res.statusCode}: ${res.body}`);
    // The rest of a long reply follows through 客服消息 right after the passive one.
    await new Promise((r) => setTimeout(r, 50));
    const passive = res.body === 'success' ? [] : [String(reader.parse(res.body).xml.Content)];
    last = [...passive, ...wx.messages.slice(before).map((m) => m.content)];
    return { texts: last, buttons: [], cards: [] };
  }

  return {
    adapter,
    service,
    say,
    press: (title) => say(menuNumber(last, title)),
    conversationId: () => `wechat:${openid}`,
    async received(match) {
      const from = wx.messages.length;
      const m = (await wx.waitForMessages(from + 1)).slice(from).find((x) => match.test(x.content));
      if (!m) throw new Error(`no 客服消息 matching ${match}`);
      return m.content;
    },
    async close() {
      await app.close();
      await wx.close();
    },
  };
});
