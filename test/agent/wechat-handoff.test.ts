import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wechatSignature } from '../../src/channels/wechat/index.js';
import { FakeWechatApi } from '../fakes/wechat-api.js';
import { redisSuite } from '../helpers/redis.js';
import { AgentClient, redisPrefix, startInstance, type Instance } from './harness.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = redisPrefix(url, 'handoff-wx');
const TOKEN = 'handoffWechat';
const APP_ID = 'wxhandoff0001';
const reader = new XMLParser({ parseTagValue: false, processEntities: false });
const suite = await redisSuite('WeChat handoff on Redis', url, keys.prefix);
let msgId = 70_000_000;

suite('WeChat handoff on Redis', () => {
  let wx: FakeWechatApi;
  let a: Instance;
  beforeAll(async () => {
    wx = await new FakeWechatApi(APP_ID, 'wx-secret').listen();
    a = await startInstance({ redis: { url, prefix: keys.prefix }, wechat: { token: TOKEN, appId: APP_ID, appSecret: 'wx-secret', apiBase: wx.url } });
    await a.handoff.service.agents.add('sun.li', '孙丽', 'password-sun-1');
  });
  afterAll(async () => {
    await a?.close();
    await wx?.close();
    await keys.cleanup();
  });

  /** Posts a text message as WeChat does; returns the passive reply's Content ('' for "success"). */
  async function say(openid: string, content: string): Promise<string> {
    const id = ++msgId;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const xml = `<xml><ToUserName><![CDATA[gh_h]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${id}</MsgId></xml>`;
    const res = await fetch(`${a.url}/wechat?signature=${wechatSignature(TOKEN, timestamp, String(id))}&timestamp=${timestamp}&nonce=${id}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml });
    expect(res.status).toBe(200);
    const body = await res.text();
    return body === 'success' || !body ? '' : String(reader.parse(body).xml?.Content ?? '');
  }

  it('a WeChat user is queued, the agent talks through 客服消息, the bot is silent, the rating comes after close', async () => {
    const openid = 'oHandoffUser1';
    const agent = new AgentClient(a.url);
    await agent.login('sun.li', 'password-sun-1');
    await say(openid, '你好');
    const queued = await say(openid, '转人工');
    expect(queued).toMatch(/正在为您转接/);
    const item = (await agent.call('GET', '/api/v1/agent/queue')).body.items.find((i: any) => i.conversationId === `wechat:${openid}`);
    expect(item).toMatchObject({ channel: 'wechat', status: 'queued' });
    const before = wx.messages.length;
    await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/messages`, { text: '您好，请问有什么可以帮您？' });
    const pushed = (await wx.waitForMessages(before + 2)).slice(before);
    expect(pushed.map((m) => m.touser)).toEqual([openid, openid]);
    expect(pushed[0]!.content).toContain('孙丽');
    expect(pushed[1]!.content).toContain('您好，请问有什么可以帮您？');
    expect(pushed[1]!.content).toContain('人工客服 孙丽');
    expect(await say(openid, '楼道水表在漏水'), 'the bot says nothing').toBe('');
    const packet = await agent.call('GET', `/api/v1/agent/handoffs/${item.id}`);
    expect(packet.body.messages.at(-1)).toMatchObject({ from: 'user', text: '楼道水表在漏水' });
    const n = wx.messages.length;
    await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/close`, { resolution: 'repair-dispatched' });
    const [rating] = (await wx.waitForMessages(n + 1)).slice(n);
    expect(rating!.content).toContain('打分');
    // WeChat has no buttons: the menu is numbered, and the typed score is taken.
    const thanks = await say(openid, '5分');
    expect(thanks).toContain('感谢您的评分');
    expect((await a.handoff.service.get(item.id))!.rating).toMatchObject({ score: 5 });
  });
});
