import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramChannel, type TelegramChannel } from '../../src/channels/telegram/index.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { AppError, createLogger, type Message } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';
import { FakeTelegramApi, type TelegramCall } from '../fakes/telegram-api.js';

const SECRET = 'webhook-secret-of-the-tests_0123456789';
const NOW = new Date('2026-09-30T02:00:00Z');
const logger = createLogger('silent');

let kb: KnowledgeBase;
let classifier: Classifier;
let api: FakeTelegramApi;
let stores: Stores;
let service: ConversationService;
let channel: TelegramChannel;
let app: FastifyInstance;
let nextUpdate = 1000;

type Button = { text: string; callback_data: string };
const keyboard = (call: TelegramCall): Button[] => ((call.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();
const textOf = (call: TelegramCall) => String(call.body.text);

function textUpdate(chatId: number, text: string, updateId = ++nextUpdate) {
  return { update_id: updateId, message: { message_id: updateId, date: 1_790_000_000, chat: { id: chatId, type: 'private', first_name: '测试' }, from: { id: chatId, is_bot: false, first_name: '测试' }, text } };
}

function callbackUpdate(chatId: number, data: string, updateId = ++nextUpdate) {
  return {
    update_id: updateId,
    callback_query: { id: `cq-${updateId}`, chat_instance: 'ci', data, from: { id: chatId, is_bot: false, first_name: '测试' }, message: { message_id: 1, date: 1_790_000_000, chat: { id: chatId, type: 'private', first_name: '测试' }, text: '…' } },
  };
}

/** Posts an update to the webhook the way Telegram does; resolves when the handler (and its replies) finished. */
function deliverUpdate(update: object, secret: string | null = SECRET) {
  return app.inject({ method: 'POST', url: '/telegram/webhook', headers: secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }, payload: update });
}

/** The replies one update produced: the sendMessage calls recorded while it ran. */
async function exchange(update: object): Promise<TelegramCall[]> {
  const before = api.sent().length;
  const res = await deliverUpdate(update);
  expect(res.statusCode, res.body).toBe(200);
  return api.sent().slice(before);
}

/** Presses the button titled `title` on the last keyboard sent to the chat. */
async function press(chatId: number, title: string): Promise<TelegramCall[]> {
  const last = [...api.sent()].reverse().find((c) => Number(c.body.chat_id) === chatId && keyboard(c).length);
  const button = last && keyboard(last).find((b) => b.text === title);
  expect(button, `button ${title}`).toBeDefined();
  return exchange(callbackUpdate(chatId, button!.callback_data));
}

const userMessages = async (chatId: number): Promise<Message[]> => (await service.history(`telegram:${chatId}`)).filter((m) => m.from === 'user');

beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});

beforeEach(async () => {
  api = await new FakeTelegramApi().listen();
  stores = createMemoryStores();
  service = createConversationService({ kb, classifier, stores, logger, now: () => NOW });
  channel = createTelegramChannel({ service, token: api.token, webhookSecret: SECRET, apiRoot: api.url, mode: 'webhook', logger, stores });
  app = await buildServer({ service, stores, logger });
  await channel.register!(app);
  await app.ready();
});

afterEach(async () => {
  await channel.stop?.();
  await app.close();
  await api.close();
});

describe('Telegram webhook', () => {
  it('answers /start with the welcome and an inline keyboard, then a guide question as plain text', async () => {
    const [welcome] = await exchange(textUpdate(42, '/start'));
    expect(welcome!.body.chat_id).toBe(42);
    expect(textOf(welcome!)).toBe(kb.utility.welcome.text);
    expect(welcome!.body.parse_mode).toBeUndefined();
    const buttons = keyboard(welcome!);
    expect(buttons.map((b) => b.text)).toEqual(kb.utility.welcome.quickReplies.map((q) => q.title));
    for (const b of buttons) expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);

    const replies = await exchange(textUpdate(42, '过户要带什么材料'));
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.map(textOf).join('\n')).toContain('过户');
    expect(replies.every((c) => textOf(c).length <= 4096)).toBe(true);
    // The conversation is addressed by the chat: found again, one welcome, one user message.
    const transcript = await service.history('telegram:42');
    expect(transcript.filter((m) => m.from === 'user').map((m) => m.text)).toEqual(['过户要带什么材料']);
    expect(transcript[0]!.text).toBe(kb.utility.welcome.text);
  });

  it('turns a button press into a postback and answers the callback query', async () => {
    await exchange(textUpdate(7, '/start'));
    const replies = await press(7, '交水费');
    const answered = api.sent('answerCallbackQuery');
    expect(answered).toHaveLength(1);
    expect(answered[0]!.body.callback_query_id).toMatch(/^cq-/);
    expect(answered[0]!.body.text).toBeUndefined();
    expect(replies.map(textOf).join('\n')).toContain('户号');
    const session = await stores.sessions.get<{ dialogue: { itemId?: string } }>('telegram:7');
    expect(session?.state.dialogue.itemId).toBe('payment-channels');
    expect((await userMessages(7)).map((m) => m.text)).toEqual(['item:payment-channels']);
  });

  it('completes a whole flow to its reference number with typed answers and pressed buttons', async () => {
    const chat = 9001;
    const ask = async (text: string) => (await exchange(textUpdate(chat, text))).map(textOf).join('\n');
    expect(await ask('我家被征收了，水费怎么结清、水表怎么销，帮我一起办')).toContain('要销户的水费户号');
    expect(await ask('1004567890')).toContain('户主（或产权人）叫什么名字');
    await ask('陈建国');
    await ask('420111197808150015');
    expect(await ask('15071234567')).toContain('水费都交清了吗');
    expect((await press(chat, '是')).map(textOf).join('\n')).toContain('签过银行代扣吗');
    expect((await press(chat, '否')).map(textOf).join('\n')).toContain('哪天搬离');
    // 拆迁 has no 可容缺 materials (issue 7: facts true to the source), so the summary follows at once.
    const summary = await ask('10月8日');
    expect(summary).toContain('房屋征收补偿协议');
    expect(summary).toContain('搬离日期：2026-10-08');
    const done = (await press(chat, '确认提交')).map(textOf).join('\n');
    expect(done).toContain('办件编号：WS20260930-0001');
    const app1 = await stores.applications.get('WS20260930-0001');
    expect(app1?.flowId).toBe('demolition');
    expect(app1?.conversationId).toBe(`telegram:${chat}`);
    // Personal numbers never reach Telegram unmasked in the bot's replies.
    const botText = api.sent().filter((c) => Number(c.body.chat_id) === chat).map(textOf).join('\n');
    expect(botText).not.toContain('420111197808150015');
  });

  it('handles a repeated update_id once: one turn stored, one set of replies sent', async () => {
    const update = textUpdate(55, '水费怎么交');
    const first = await exchange(update);
    expect(first.length).toBeGreaterThan(0);
    const again = await exchange(update);
    expect(again).toHaveLength(0);
    expect((await userMessages(55)).map((m) => m.text)).toEqual(['水费怎么交']);
  });

  it('rejects a missing or wrong secret with 401 and runs nothing', async () => {
    for (const secret of [null, 'wrong', `${SECRET}x`, '']) {
      const res = await deliverUpdate(textUpdate(66, '水费怎么交'), secret);
      expect(res.statusCode, String(secret)).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
    expect(api.sent()).toHaveLength(0);
    await expect(service.history('telegram:66')).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
  });

  it('answers a body that is not an update with 400', async () => {
    for (const payload of [{ hello: 1 }, { update_id: 'x' }, [1, 2]]) {
      const res = await deliverUpdate(payload);
      expect(res.statusCode).toBe(400);
    }
    const res = await app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': SECRET, 'content-type': 'application/json' }, payload: '{"update_id": 1,' });
    expect(res.statusCode).toBe(400);
    expect(api.sent()).toHaveLength(0);
  });

  it('honours 429 retry_after: waits, then sends the reply once', async () => {
    api.failNext('sendMessage', { retryAfter: 1 });
    const started = Date.now();
    const res = await deliverUpdate(textUpdate(77, '水费怎么交'));
    expect(res.statusCode).toBe(200);
    const calls = api.sent();
    expect(calls.length).toBeGreaterThanOrEqual(2);
    // The first call was refused; the retry came after retry_after (1 s) with the same body.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(calls[1]!.body).toEqual(calls[0]!.body);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('is not throttled by the per-IP rate limit: every chat arrives from Telegram\'s addresses', async () => {
    const limited = await buildServer({ service, stores, logger, rateLimitMax: 2 });
    await channel.register!(limited);
    const codes: number[] = [];
    for (let k = 0; k < 5; k++) {
      const res = await limited.inject({ method: 'POST', url: '/telegram/webhook', remoteAddress: '149.154.167.220', headers: { 'x-telegram-bot-api-secret-token': SECRET }, payload: textUpdate(1000 + k, '你好') });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 200, 200]);
    const api429 = await limited.inject({ method: 'POST', url: '/api/v1/conversations', remoteAddress: '149.154.167.220' });
    const api429b = await limited.inject({ method: 'POST', url: '/api/v1/conversations', remoteAddress: '149.154.167.220' });
    const api429c = await limited.inject({ method: 'POST', url: '/api/v1/conversations', remoteAddress: '149.154.167.220' });
    expect([api429.statusCode, api429b.statusCode, api429c.statusCode]).toContain(429);
    await limited.close();
  });

  it('answers a message over 2,000 characters politely without running a turn', async () => {
    const [reply] = await exchange(textUpdate(89, '水'.repeat(2001)));
    expect(textOf(reply!)).toContain('2000');
    await expect(service.history('telegram:89')).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
  });

  it('says politely that text is needed for a sticker or photo', async () => {
    const update = { update_id: ++nextUpdate, message: { message_id: 1, date: 1_790_000_000, chat: { id: 88, type: 'private' }, sticker: { file_id: 'x', file_unique_id: 'y', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } } };
    const [reply] = await exchange(update);
    expect(textOf(reply!)).toContain('文字');
  });

  it('processes one chat in order when updates arrive together', async () => {
    const texts = ['水费怎么交', '停水了怎么办', '过户要带什么', '你好'];
    const results = await Promise.all(texts.map((t) => deliverUpdate(textUpdate(99, t))));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect((await userMessages(99)).map((m) => m.text)).toEqual(texts);
  });
});

describe('Telegram when the store fails', () => {
  it('answers 503 so Telegram redelivers, and the redelivered update is answered once', async () => {
    let failures = 1;
    const flaky = createConversationService({
      kb, classifier, stores, logger,
      middleware: { beforeEngine: [async (_turn, next) => { if (failures-- > 0) throw new AppError('STORE_UNAVAILABLE'); await next(); }] },
    });
    const tg = createTelegramChannel({ service: flaky, token: api.token, webhookSecret: SECRET, apiRoot: api.url, mode: 'webhook', logger, stores });
    const server = await buildServer({ service: flaky, stores, logger });
    await tg.register!(server);
    const update = textUpdate(4040, '水费怎么交');
    const post = () => server.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': SECRET }, payload: update });
    const first = await post();
    expect(first.statusCode).toBe(503);
    expect(first.json().error.code).toBe('STORE_UNAVAILABLE');
    expect(api.sent()).toHaveLength(0);
    const retry = await post();
    expect(retry.statusCode).toBe(200);
    expect(api.sent().length).toBeGreaterThan(0);
    expect(String(api.sent()[0]!.body.text)).toContain('户号');
    expect((await flaky.history('telegram:4040')).filter((m) => m.from === 'user')).toHaveLength(1);
    await server.close();
  });
});

describe('Telegram delivery failures', () => {
  /** The texts the bot sends for `text` as a chat's first message, on a healthy network (another chat). */
  async function expected(text: string): Promise<string[]> {
    return (await exchange(textUpdate(7000 + Math.floor(Math.random() * 1000), text))).map(textOf);
  }

  for (const [label, skip] of [['the first reply', 0], ['a later reply', 1]] as const) {
    it(`sends ${label} lost on the network when Telegram redelivers the update: 503 first, then the missing replies once`, async () => {
      const text = '我要办理二手房过户';
      const want = await expected(text);
      expect(want.length, 'the turn needs two replies or more').toBeGreaterThan(skip);
      api.dropNext('sendMessage', 1, skip);
      const update = textUpdate(5050 + skip, text);
      const before = api.sent().length;
      const first = await deliverUpdate(update);
      expect(first.statusCode).toBe(503);
      expect(first.json().error.code).toBe('DELIVERY_FAILED');
      expect(api.sent().slice(before).map(textOf)).toEqual(want.slice(0, skip));
      // Telegram redelivers: the turn is not run again, the replies not sent are, once and in order.
      const retry = await exchange(update);
      expect([...api.sent().slice(before, before + skip).map(textOf), ...retry.map(textOf)]).toEqual(want);
      expect(await exchange(update)).toEqual([]);
      expect(await userMessages(5050 + skip)).toHaveLength(1);
    });
  }

  it('does not ask for a redelivery when Telegram refuses for good (the bot was blocked): 200, nothing marked', async () => {
    api.failNext('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user', times: 10 });
    const update = textUpdate(5060, '水费怎么交');
    expect((await deliverUpdate(update)).statusCode).toBe(200);
    expect(await exchange(update)).toEqual([]);
    expect(await userMessages(5060)).toHaveLength(1);
  });
});

describe('Telegram rendering and proactive delivery', () => {
  it('sends agent messages through send(), signed, split under 4,096 characters', async () => {
    await exchange(textUpdate(31, '/start'));
    const long = Array.from({ length: 120 }, (_, i) => `第 ${i + 1} 段：供水服务说明，请按页面提示办理。`.repeat(3)).join('\n');
    await channel.send('telegram:31', [
      { seq: 5, from: 'agent', author: '人工客服 李敏', at: NOW.toISOString(), text: '您好，我来帮您处理。' },
      { seq: 6, from: 'system', at: NOW.toISOString(), text: long },
    ]);
    const sent = api.sent().slice(1);
    expect(textOf(sent[0]!)).toBe('人工客服 李敏：您好，我来帮您处理。');
    const parts = sent.slice(1);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const p of parts) expect(textOf(p).length).toBeLessThanOrEqual(4096);
    expect(parts.map(textOf).join('\n').replace(/\s/g, '')).toBe(long.replace(/\s/g, ''));
  });

  it('maps a postback longer than 64 bytes through a stored short key, and a stale key gets a notice', async () => {
    const postback = `item:transfer-ownership:materials:${'x'.repeat(80)}`;
    await channel.send('telegram:32', [{ seq: 1, from: 'agent', at: NOW.toISOString(), text: '请选择', quickReplies: [{ title: '长按钮', postback }, { title: '短按钮', postback: 'handoff' }] }]);
    const [b1, b2] = keyboard(api.sent()[0]!);
    expect(b1!.callback_data).toMatch(/^k:/);
    expect(Buffer.byteLength(b1!.callback_data)).toBeLessThanOrEqual(64);
    expect(b2!.callback_data).toBe('p:handoff');
    await exchange(callbackUpdate(32, b1!.callback_data));
    expect((await userMessages(32)).map((m) => m.text)).toEqual([postback]);

    const before = api.sent().length;
    await deliverUpdate(callbackUpdate(32, 'k:no-such-key'));
    expect(api.sent('answerCallbackQuery').at(-1)!.body.text).toContain('失效');
    expect(api.sent().length).toBe(before);
    expect(await userMessages(32)).toHaveLength(1);
  });

  it('splits by Telegram\'s UTF-16 count: 5,000 emoji never make a part over 4,096 units', () => {
    const text = '💧'.repeat(5000);
    const parts = channel.render([{ text, quickReplies: [{ title: '是', postback: 'yes' }] }]);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(4096);
    expect(parts.map((p) => p.text).join('')).toBe(text);
    expect(parts.at(-1)!.buttons).toEqual([[{ title: '是', postback: 'yes' }]]);
    expect(parts.slice(0, -1).every((p) => !p.buttons)).toBe(true);
  });

  it('renders cards as their text and keeps user text unformatted', () => {
    const out = channel.render([{ text: '<b>不是粗体</b> & 办件编号：WS20260930-0001', card: { type: 'handoff', reason: 'user-request' }, quickReplies: [{ title: '是', postback: 'yes' }, { title: '否', postback: 'no' }] }]);
    expect(out).toEqual([{ text: '<b>不是粗体</b> & 办件编号：WS20260930-0001', buttons: [[{ title: '是', postback: 'yes' }, { title: '否', postback: 'no' }]] }]);
  });
});

describe('Telegram start-up', () => {
  it('registers the webhook with its secret when a public URL is configured', async () => {
    const tg = createTelegramChannel({ service, token: api.token, webhookSecret: SECRET, webhookUrl: 'https://water.example/telegram/webhook', apiRoot: api.url, mode: 'webhook', logger, stores });
    await tg.start!();
    const [set] = api.sent('setWebhook');
    expect(set!.body).toMatchObject({ url: 'https://water.example/telegram/webhook', secret_token: SECRET, allowed_updates: ['message', 'callback_query'] });
  });

  it('starts without Telegram reachable and refuses webhook mode without a secret', async () => {
    const tg = createTelegramChannel({ service, token: api.token, webhookSecret: SECRET, apiRoot: 'http://127.0.0.1:9', mode: 'webhook', logger, stores });
    await expect(tg.start!()).resolves.toBeUndefined();
    expect(() => createTelegramChannel({ service, token: api.token, apiRoot: api.url, mode: 'webhook', logger, stores })).toThrow(/TELEGRAM_WEBHOOK_SECRET/);
  });
});

describe('Telegram long polling', () => {
  it('fetches updates with getUpdates and answers them', async () => {
    const polling = createTelegramChannel({ service, token: api.token, apiRoot: api.url, mode: 'polling', logger, stores });
    const fresh = Fastify();
    await polling.register!(fresh);
    expect(fresh.printRoutes()).not.toContain('telegram');
    await polling.start!();
    api.pushUpdate(textUpdate(123, '水费怎么交', 5001));
    const [reply] = await api.waitFor('sendMessage', 1);
    expect(reply!.body.chat_id).toBe(123);
    expect((await userMessages(123)).map((m) => m.text)).toEqual(['水费怎么交']);
    expect(api.sent('deleteWebhook').length).toBe(1);
    await polling.stop!();
    await fresh.close();
  });
});
