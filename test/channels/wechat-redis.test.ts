import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWechatChannel, wechatSignature, type WechatChannel } from '../../src/channels/wechat/index.js';
import { FakeWechatApi } from '../fakes/wechat-api.js';
import { redisInstances, type RedisInstance } from '../helpers/redis-instances.js';

const TOKEN = 'twoInstances';
const APP_ID = 'wxtwoinstances01';
const reader = new XMLParser({ parseTagValue: false, processEntities: false });
const cluster = await redisInstances('WeChat on two instances', 'wx');
const suite = cluster.suite;
type Instance = RedisInstance<WechatChannel>;

let wx: FakeWechatApi;
const instances: Instance[] = [];
let msgId = 9_000_000;

function post(i: Instance, openid: string, content: string, id = ++msgId) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(id);
  const xml = `<xml><ToUserName><![CDATA[gh_two]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${id}</MsgId></xml>`;
  return i.app.inject({ method: 'POST', url: `/wechat?signature=${wechatSignature(TOKEN, timestamp, nonce)}&timestamp=${timestamp}&nonce=${nonce}`, headers: { 'content-type': 'text/xml' }, payload: xml });
}

suite('WeChat on two instances sharing Redis', () => {
  beforeAll(async () => {
    wx = await new FakeWechatApi(APP_ID, 'two-secret').listen();
    for (let n = 0; n < 2; n++) instances.push(await cluster.start({ channel: ({ service, stores }) => createWechatChannel({ service, token: TOKEN, appId: APP_ID, appSecret: 'two-secret', apiBase: wx.url, logger: cluster.logger, stores }) }));
  });

  afterAll(async () => {
    await cluster.close();
    await wx?.close();
  });

  it('shares one access_token between instances', async () => {
    const [a, b] = instances as [Instance, Instance];
    await a.channel.send('wechat:oTwo', [{ seq: 1, from: 'agent', at: new Date().toISOString(), text: '来自实例 A' }]);
    await b.channel.send('wechat:oTwo', [{ seq: 2, from: 'agent', at: new Date().toISOString(), text: '来自实例 B' }]);
    expect(wx.messages.map((m) => m.content)).toEqual(['来自实例 A', '来自实例 B']);
    expect(wx.tokenRequests).toHaveLength(1);
    expect(wx.messages[1]!.token).toBe(wx.messages[0]!.token);
  });

  it('answers a MsgId retried on the other instance with the stored reply, one turn', async () => {
    const [a, b] = instances as [Instance, Instance];
    const id = ++msgId;
    const [r1, r2] = await Promise.all([post(a, 'oRetry', '水费怎么交', id), post(b, 'oRetry', '水费怎么交', id)]);
    expect(reader.parse(r1.body).xml.Content).toContain('户号');
    expect(reader.parse(r2.body).xml.Content).toBe(reader.parse(r1.body).xml.Content);
    const users = (await a.service.history('wechat:oRetry')).filter((m) => m.from === 'user');
    expect(users.map((m) => m.text)).toEqual(['水费怎么交']);
  });

  it('keeps the numbered menu across instances: B answers the number of A\'s menu', async () => {
    const [a, b] = instances as [Instance, Instance];
    const guide = reader.parse((await post(a, 'oMenu', '过户要带什么')).body).xml.Content as string;
    const line = guide.split('\n').find((l) => /^\d+\. 多久办好$/.test(l));
    expect(line, guide).toBeDefined();
    await post(b, 'oMenu', line!.split('.')[0]!);
    const users = (await b.service.history('wechat:oMenu')).filter((m) => m.from === 'user');
    expect(users.at(-1)!.text).toMatch(/^item:[\w-]+:timeLimit$/);
  });
});
