import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTelegramChannel } from '../../src/channels/telegram/index.js';
import { FakeTelegramApi } from '../fakes/telegram-api.js';
import { redisInstances, type RedisInstance } from '../helpers/redis-instances.js';

const SECRET = 'secret-for-two-instances-0123';
const cluster = await redisInstances('Telegram on two instances', 'tg');
const suite = cluster.suite;
type Instance = RedisInstance;

let api: FakeTelegramApi;
const instances: Instance[] = [];
let nextUpdate = 7000;

const textUpdate = (chatId: number, text: string, updateId = ++nextUpdate) => ({
  update_id: updateId,
  message: { message_id: updateId, date: 1_790_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: '测试' }, text },
});

const deliver = (i: Instance, update: object) =>
  i.app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': SECRET }, payload: update });

suite('Telegram on two instances sharing Redis', () => {
  beforeAll(async () => {
    api = await new FakeTelegramApi().listen();
    for (let n = 0; n < 2; n++) instances.push(await cluster.start({ channel: ({ service, stores }) => createTelegramChannel({ service, token: api.token, webhookSecret: SECRET, apiRoot: api.url, mode: 'webhook', logger: cluster.logger, stores }) }));
  });

  afterAll(async () => {
    await cluster.close();
    await api?.close();
  });

  it('continues one chat whichever instance gets the next update', async () => {
    const [a, b] = instances as [Instance, Instance];
    const chat = 424242;
    expect((await deliver(a, textUpdate(chat, '我家被征收了，水费怎么结清、水表怎么销，帮我一起办'))).statusCode).toBe(200);
    expect((await deliver(b, textUpdate(chat, '1004567890'))).statusCode).toBe(200);
    const last = api.sent().at(-1)!;
    expect(String(last.body.text)).toContain('户主（或产权人）叫什么名字');
    const users = (await a.service.history(`telegram:${chat}`)).filter((m) => m.from === 'user');
    expect(users).toHaveLength(2);
  });

  it('handles an update redelivered to both instances at once exactly once', async () => {
    const [a, b] = instances as [Instance, Instance];
    const chat = 515151;
    const update = textUpdate(chat, '水费怎么交');
    const before = api.sent().length;
    const res = await Promise.all([deliver(a, update), deliver(b, update)]);
    expect(res.map((r) => r.statusCode)).toEqual([200, 200]);
    const replies = api.sent().slice(before).filter((c) => c.body.chat_id === chat);
    const history = await b.service.history(`telegram:${chat}`);
    expect(history.filter((m) => m.from === 'user').map((m) => m.text)).toEqual(['水费怎么交']);
    // One turn's replies, sent by one instance.
    expect(replies.length).toBe(history.filter((m) => m.from === 'bot').length - 1);
  });

  it('serialises concurrent updates of one chat across instances: nothing lost, seq gap-free', async () => {
    const chat = 616161;
    const texts = ['水费怎么交', '停水了怎么办', '过户要带什么', '你好', '营业厅几点上班', '怎么报修'];
    const res = await Promise.all(texts.map((t, k) => deliver(instances[k % 2]!, textUpdate(chat, t))));
    expect(res.every((r) => r.statusCode === 200)).toBe(true);
    const history = await instances[0]!.service.history(`telegram:${chat}`);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, k) => k + 1));
    expect(history.filter((m) => m.from === 'user').map((m) => m.text).sort()).toEqual([...texts].sort());
  });
});
