import { beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../src/channels/types.js';
import { createConversationService, type ConversationDeps, type EffectHandler, type TurnMetrics, type TurnMiddleware } from '../../src/conversation/index.js';
import { createLogger, createMasker, type Message } from '../../src/core/index.js';
import { createMemoryBus } from '../../src/delivery/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';

let kb: KnowledgeBase;
let classifier: Classifier;

beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});

function service(extra: Partial<ConversationDeps> = {}) {
  const stores = extra.stores ?? createMemoryStores();
  const bus = createMemoryBus();
  const published: [string, Message[]][] = [];
  bus.subscribeAll((id, m) => published.push([id, m]));
  const svc = createConversationService({ kb, classifier, stores, logger: createLogger('silent'), bus, ...extra });
  return { svc, stores, bus, published };
}

/** Completes 17 digits with the GB 11643 check character. */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}

describe('clientMessageId', () => {
  it('a retry returns the stored replies with duplicate:true and changes nothing', async () => {
    const { svc, published } = service();
    const { conversationId: id } = await svc.start();
    const first = await svc.send(id, { text: '水费在哪交' }, { clientMessageId: 'u-1' });
    const before = await svc.history(id);
    const publishedBefore = published.length;
    const again = await svc.send(id, { text: '水费在哪交' }, { clientMessageId: 'u-1' });
    expect(again.duplicate).toBe(true);
    expect(again.messages).toEqual(first.messages);
    expect(again.state).toEqual(first.state);
    expect(await svc.history(id)).toEqual(before);
    expect(published.length).toBe(publishedBefore);
    const other = await svc.send(id, { text: '水费在哪交' }, { clientMessageId: 'u-2' });
    expect(other.duplicate).toBeUndefined();
    expect(other.messages[0]!.seq).toBe(before.length + 2);
  });

  it('a retried submit stores one application, not two', async () => {
    const { svc, stores } = service();
    const { conversationId: id } = await svc.start();
    // Answer buttons carry p:<promptId>:<value>, so each is pressed from the message that showed it.
    let last: Message[] = [];
    const buttonOf = (title: string) => {
      const postback = last.flatMap((m) => m.quickReplies ?? []).find((q) => q.title === title)?.postback;
      expect(postback, `button ${title}`).toBeDefined();
      return { postback: postback! };
    };
    const steps = [() => ({ postback: 'flow:demolition' }), () => ({ text: '1002345678' }), () => ({ text: '张三' }), () => ({ text: idNumber('42010219850715003') }), () => ({ text: '13912345678' }), () => buttonOf('是'), () => buttonOf('否'), () => ({ text: '明天' })];
    for (const s of steps) last = (await svc.send(id, s())).messages;
    const confirm = buttonOf('确认提交');
    const done = await svc.send(id, confirm, { clientMessageId: 'submit' });
    const retry = await svc.send(id, confirm, { clientMessageId: 'submit' });
    const ref = done.state.applicationRef!;
    expect(ref).toMatch(/^WS\d{8}-0001$/);
    expect(retry).toMatchObject({ duplicate: true, state: { applicationRef: ref } });
    expect(await stores.applications.get(ref)).toMatchObject({ ref, flowId: 'demolition' });
    // The next reference of the day is 0002: the retry reserved none.
    expect(await stores.applications.nextRef(ref.slice(2, 10))).toBe(`WS${ref.slice(2, 10)}-0002`);
  });
});

describe('redaction', () => {
  it("masks personal numbers in the stored user message and in every reply, keeping the utility's own examples", async () => {
    const { svc } = service();
    const { conversationId: id } = await svc.start();
    const idCard = idNumber('42010219850715003');
    await svc.send(id, { text: `我的身份证 ${idCard}，手机 139 1234 5678，户号 1002345679，信用代码 91420100MA4K12345K` });
    await svc.send(id, { postback: 'flow:demolition' });
    await svc.send(id, { text: '不知道户号' });
    const all = await svc.history(id);
    const json = JSON.stringify(all);
    for (const secret of [idCard, '13912345678', '139 1234 5678', '1002345679', '91420100MA4K12345K']) expect(json).not.toContain(secret);
    const user = all.find((m) => m.from === 'user')!;
    expect(user.text).toBe('我的身份证 4201**********' + idCard.slice(-4) + '，手机 139****5678，户号 10******79，信用代码 9142**********345K');
  });

  it('the shared masker finds each shape and leaves other numbers alone', () => {
    const mask = createMasker({ accountPattern: '^\\d{10}$', allow: ['1002345678'] });
    expect(mask('电话 13812345678')).toBe('电话 138****5678');
    expect(mask('+86 138-1234-5678')).toBe('138****5678');
    expect(mask('办件 WS20261130-0001，96510，027-85855111，2026-12-03')).toBe('办件 WS20261130-0001，96510，027-85855111，2026-12-03');
    expect(mask('12345678901234567890')).toBe('12345678901234567890');
    expect(mask('例如 1002345678', { allowPublic: true })).toBe('例如 1002345678');
    expect(mask('例如 1002345678')).toBe('例如 10******78');
    expect(mask('11010519491231002X')).toBe('1101**********002X');
  });
});

describe('start', () => {
  it('opens a channel address once and finds it again', async () => {
    const { svc, published } = service();
    const a = await svc.start({ conversationId: 'telegram:42', channel: 'telegram' });
    expect(a).toMatchObject({ conversationId: 'telegram:42', created: true });
    expect(a.messages.length).toBeGreaterThan(0);
    const [b, c] = await Promise.all([svc.start({ conversationId: 'telegram:42' }), svc.start({ conversationId: 'telegram:42' })]);
    expect(b).toEqual({ conversationId: 'telegram:42', token: a.token, messages: [], created: false });
    expect(c.created).toBe(false);
    expect((await svc.history('telegram:42')).length).toBe(a.messages.length);
    expect(published.filter(([id]) => id === 'telegram:42')).toHaveLength(1);
  });

  it('gives every conversation its own token; authorize compares it', async () => {
    const { svc } = service();
    const a = await svc.start();
    const b = await svc.start();
    expect(a.token).not.toBe(b.token);
    expect(await svc.authorize(a.conversationId, a.token)).toBe(true);
    expect(await svc.authorize(a.conversationId, b.token)).toBe(false);
    expect(await svc.authorize(a.conversationId, '')).toBe(false);
    expect(await svc.authorize('nope', a.token)).toBe(false);
  });
});

describe('history', () => {
  it('pages with after and limit (default 100, max 500)', async () => {
    const { svc } = service();
    const { conversationId: id } = await svc.start();
    for (let i = 0; i < 3; i++) await svc.send(id, { text: '你好' });
    const all = await svc.history(id);
    expect((await svc.history(id, 0, 2)).map((m) => m.seq)).toEqual([1, 2]);
    expect((await svc.history(id, 2, 2)).map((m) => m.seq)).toEqual([3, 4]);
    expect(await svc.history(id, 0, 10_000)).toEqual(all);
    await expect(svc.history('missing')).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
  });
});

describe('post', () => {
  it('appends agent messages (masked), publishes them and pushes them through a push channel', async () => {
    const pushed: [string, Message[]][] = [];
    const telegram: ChannelAdapter = { name: 'telegram', capabilities: { buttons: true, cards: false, maxPayloadBytes: 64, maxTextChars: 4096, live: false }, render: (r) => r, send: async (id, m) => void pushed.push([id, m]) };
    const { svc, published } = service({ channels: { get: (n) => (n === 'telegram' ? telegram : undefined) } });
    const { conversationId: id, messages } = await svc.start({ conversationId: 'telegram:7' });
    const stored = await svc.post(id, [{ from: 'agent', text: '您好，我是客服小李，您的手机 13912345678 已登记', author: '人工客服 小李' }]);
    expect(stored).toEqual([expect.objectContaining({ seq: messages.length + 1, from: 'agent', author: '人工客服 小李', text: '您好，我是客服小李，您的手机 139****5678 已登记' })]);
    expect(published.at(-1)).toEqual([id, stored]);
    expect(pushed).toEqual([[id, stored]]);
    expect((await svc.history(id)).at(-1)).toEqual(stored[0]);
  });

  it('keeps the message when the push fails, and does not push to live channels', async () => {
    const failing: ChannelAdapter = { name: 'wechat', capabilities: { buttons: false, cards: false, maxPayloadBytes: 0, maxTextChars: 600, live: false }, render: (r) => r, send: async () => { throw new Error('api down'); } };
    let webSends = 0;
    const web: ChannelAdapter = { name: 'web', capabilities: { buttons: true, cards: true, maxPayloadBytes: 200, maxTextChars: 4000, live: true }, render: (r) => r, send: async () => void webSends++ };
    const { svc } = service({ channels: { get: (n) => ({ wechat: failing, web })[n] } });
    const w = await svc.start({ conversationId: 'wechat:o1' });
    await svc.post(w.conversationId, [{ from: 'system', text: '客服已接入' }]);
    expect((await svc.history(w.conversationId)).at(-1)).toMatchObject({ from: 'system', text: '客服已接入' });
    const plain = await svc.start();
    await svc.post(plain.conversationId, [{ from: 'agent', text: '在的' }]);
    expect(webSends).toBe(0);
    await expect(svc.post('missing', [{ from: 'agent', text: 'x' }])).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
  });
});

describe('pipeline hooks', () => {
  it('a before-engine middleware can answer the turn: the user message is stored and published, the engine is silent', async () => {
    const holds: TurnMiddleware = async (turn, next) => {
      if (turn.session?.dialogue.mode === 'bot' && 'text' in turn.input && turn.input.text.startsWith('@agent')) turn.handled = 'agent';
      await next();
    };
    const { svc, published } = service({ middleware: { beforeEngine: [holds] } });
    const { conversationId: id } = await svc.start();
    const r = await svc.send(id, { text: '@agent 我家停水了' });
    expect(r.messages).toEqual([]);
    const last = (await svc.history(id)).at(-1)!;
    expect(last).toMatchObject({ from: 'user', text: '@agent 我家停水了' });
    expect(published.at(-1)![1]).toEqual([last]);
    expect((await svc.send(id, { text: '你好' })).messages.length).toBeGreaterThan(0);
  });

  it('an effect handler replaces the default of its type; the metrics hook sees every turn', async () => {
    const handoffs: string[] = [];
    const handoff: EffectHandler<'handoff'> = { type: 'handoff', run: async (e, turn) => (handoffs.push(`${turn.conversationId}:${e.reason}`), null) };
    const metrics: TurnMetrics[] = [];
    const { svc } = service({ effects: [handoff], onTurn: (m) => metrics.push(m) });
    const { conversationId: id } = await svc.start();
    await svc.send(id, { text: '转人工' });
    expect(handoffs).toEqual([`${id}:user-request`]);
    await expect(svc.send('missing', { text: '你好' })).rejects.toMatchObject({ code: 'CONVERSATION_NOT_FOUND' });
    expect(metrics.map((m) => [m.conversationId, m.handled ?? null, m.error ?? null])).toEqual([[id, 'engine', null], ['missing', null, 'CONVERSATION_NOT_FOUND']]);
    expect(metrics[0]!.durationMs).toBeGreaterThan(0);
  });

  it('a failing commit stores nothing and publishes nothing', async () => {
    const memory = createMemoryStores();
    const broken: Stores = { ...memory, commitTurn: async () => { throw new Error('disk full'); } };
    const { svc, published } = service({ stores: broken });
    const id = 'web-1';
    await memory.sessions.set(id, { schemaVersion: 1, state: { channel: 'web', dialogue: { v: 1, mode: 'bot', fallbacks: 0, applications: [] } }, updatedAt: '' });
    await expect(svc.send(id, { text: '你好' })).rejects.toThrow('disk full');
    expect(await memory.transcripts.list(id)).toEqual([]);
    expect(published).toEqual([]);
  });
});
