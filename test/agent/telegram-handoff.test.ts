import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeTelegramApi, type TelegramCall } from '../fakes/telegram-api.js';
import { redisSuite } from '../helpers/redis.js';
import { AgentClient, redisPrefix, startInstance, type Instance } from './harness.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = redisPrefix(url, 'handoff-tg');
const SECRET = 'handoff-telegram-secret-0123456789';
const suite = await redisSuite('Telegram handoff on Redis', url, keys.prefix);
let nextUpdate = 50_000;

const textUpdate = (chatId: number, text: string) => {
  const id = ++nextUpdate;
  return { update_id: id, message: { message_id: id, date: 1_790_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: '测试' }, text } };
};
const callbackUpdate = (chatId: number, data: string) => {
  const id = ++nextUpdate;
  return { update_id: id, callback_query: { id: `cq-${id}`, chat_instance: 'ci', data, from: { id: chatId, is_bot: false, first_name: '测试' }, message: { message_id: 1, date: 1_790_000_000, chat: { id: chatId, type: 'private' }, text: '…' } } };
};
type Button = { text: string; callback_data: string };
const buttons = (c: TelegramCall): Button[] => ((c.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();

suite('Telegram handoff on Redis', () => {
  let api: FakeTelegramApi;
  let a: Instance;
  beforeAll(async () => {
    api = await new FakeTelegramApi().listen();
    a = await startInstance({ redis: { url, prefix: keys.prefix }, telegram: { token: api.token, apiRoot: api.url, secret: SECRET } });
    await a.handoff.service.agents.add('zhao.lei', '赵磊', 'password-zhao-1');
  });
  afterAll(async () => {
    await a?.close();
    await api?.close();
    await keys.cleanup();
  });

  const deliver = async (update: object) => {
    const before = api.sent().length;
    const res = await fetch(`${a.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    expect(res.status).toBe(200);
    return api.sent().slice(before);
  };
  const textsTo = (chat: number) => api.sent().filter((c) => Number(c.body.chat_id) === chat).map((c) => String(c.body.text));

  it('a Telegram user asks for a person; the agent claims, they talk, the bot is silent, the agent closes, the user rates with a button', async () => {
    const chat = 4242;
    const agent = new AgentClient(a.url);
    await agent.login('zhao.lei', 'password-zhao-1');
    await deliver(textUpdate(chat, '/start'));
    const queued = await deliver(textUpdate(chat, '转人工'));
    expect(queued.map((c) => String(c.body.text)).join('\n')).toMatch(/前面还有 0 位/);
    const item = (await agent.call('GET', '/api/v1/agent/queue')).body.items.find((i: any) => i.conversationId === `telegram:${chat}`);
    expect(item).toMatchObject({ channel: 'telegram', status: 'queued' });
    expect((await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`)).status).toBe(200);
    // The join notice and the agent's lines are pushed through the adapter's send (sendMessage).
    const deadline = Date.now() + 3000;
    while (!textsTo(chat).some((t) => t.includes('赵磊') && t.includes('已接入')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 30));
    expect(textsTo(chat).some((t) => t.includes('已接入'))).toBe(true);

    const silent = await deliver(textUpdate(chat, '家里水压很小'));
    expect(silent, 'the bot says nothing while the agent holds the chat').toEqual([]);
    const packet = await agent.call('GET', `/api/v1/agent/handoffs/${item.id}`);
    expect(packet.body.messages.at(-1)).toMatchObject({ from: 'user', text: '家里水压很小' });
    const count = api.sent().length;
    await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/messages`, { text: '请问是整栋楼都这样吗？' });
    const [pushed] = (await api.waitFor('sendMessage', count + 1)).slice(count);
    expect(Number(pushed!.body.chat_id)).toBe(chat);
    expect(String(pushed!.body.text)).toContain('请问是整栋楼都这样吗？');
    expect(String(pushed!.body.text)).toContain('人工客服 赵磊');

    const before = api.sent().length;
    await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/close`, { resolution: 'answered' });
    const [rating] = (await api.waitFor('sendMessage', before + 1)).slice(before);
    expect(String(rating!.body.text)).toContain('打分');
    const five = buttons(rating!).find((b) => b.text.startsWith('5'))!;
    expect(five).toBeDefined();
    const thanks = await deliver(callbackUpdate(chat, five.callback_data));
    expect(thanks.map((c) => String(c.body.text)).join()).toContain('感谢您的评分');
    await deliver(textUpdate(chat, '跳过'));
    expect((await a.handoff.service.get(item.id))!.rating).toMatchObject({ score: 5, stage: 'done' });
    const back = await deliver(textUpdate(chat, '水费怎么交'));
    expect(back.length).toBeGreaterThan(0);
  });
});
