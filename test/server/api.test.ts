import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { checkIdCard } from '../../src/dialogue/slots.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer, MAX_TEXT } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';

let kb: KnowledgeBase;
let classifier: Classifier;
const opened: FastifyInstance[] = [];

/** A server on the given stores (fresh memory stores by default), closed after the file. */
async function newApp(stores: Stores = createMemoryStores(), hotline?: () => string): Promise<FastifyInstance> {
  const logger = createLogger('silent');
  const service = createConversationService({ kb, classifier, stores, logger });
  const app = await buildServer({ service, stores, logger, ...(hotline ? { hotline } : {}) });
  opened.push(app);
  return app;
}

const STACK_LINE = /^\s*at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/** Tokens of the conversations this file started, by id: `call` sends them unless a test sets its own header. */
const tokens = new Map<string, string>();

/** The Authorization header of the conversation a URL names, when this file started it. */
function authFor(url: string): Record<string, string> {
  const id = /\/api\/v1\/conversations\/([^/?]+)/.exec(url)?.[1];
  const token = id ? tokens.get(id) : undefined;
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Injects a request and checks what every response must satisfy: JSON, and never a stack trace. */
async function call(app: FastifyInstance, opts: InjectOptions): Promise<LightMyRequestResponse> {
  const headers = { ...authFor(String(opts.url)), ...(opts.headers ?? {}) };
  const res = await app.inject({ ...opts, headers });
  expect(res.headers['content-type'], `${opts.method} ${opts.url}`).toMatch(/^application\/json/);
  expect(() => JSON.parse(res.body)).not.toThrow();
  expect(res.body).not.toMatch(STACK_LINE);
  expect(res.body).not.toContain('Error:');
  return res;
}

async function startConversation(app: FastifyInstance, payload?: object): Promise<{ conversationId: string; token: string; messages: Message[] }> {
  const res = await call(app, { method: 'POST', url: '/api/v1/conversations', ...(payload ? { payload } : {}) });
  expect(res.statusCode).toBe(201);
  const body = res.json();
  expect(body.token).toMatch(/^[\w-]{32,}$/);
  tokens.set(body.conversationId, body.token);
  return body;
}

type Sent = { messages: Message[]; state: { mode: string; itemId?: string; flowId?: string; applicationRef?: string } };

/** Sends one message and expects 200. */
async function send(app: FastifyInstance, id: string, payload: { text: string } | { postback: string }): Promise<Sent> {
  const res = await call(app, { method: 'POST', url: `/api/v1/conversations/${id}/messages`, payload });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function history(app: FastifyInstance, id: string, after?: number): Promise<Message[]> {
  const res = await call(app, { method: 'GET', url: `/api/v1/conversations/${id}/messages${after === undefined ? '' : `?after=${after}`}` });
  expect(res.statusCode).toBe(200);
  return res.json().messages;
}

/** Expects the `{error: {code, message}}` body with the given status and code. */
function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
}

/** Completes 17 digits with the GB 11643 check character (independent of src/dialogue/slots.ts). */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}

beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});

afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
});

describe('POST /api/v1/conversations', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await newApp();
  });

  it('returns 201 with an id and a greeting with quick replies', async () => {
    const { conversationId, messages } = await startConversation(app, {});
    expect(conversationId).toMatch(/^[\w-]{8,}$/);
    expect(messages).toHaveLength(1);
    const [greeting] = messages;
    expect(greeting).toMatchObject({ seq: 1, from: 'bot' });
    expect(greeting!.text).toContain('96510');
    expect(new Date(greeting!.at).toISOString()).toBe(greeting!.at);
    expect(greeting!.quickReplies!.length).toBeGreaterThan(0);
    for (const q of greeting!.quickReplies!) {
      expect(q.title).toEqual(expect.any(String));
      expect(q.postback).toEqual(expect.any(String));
    }
  });

  it('accepts a userId and an empty request, and gives every conversation its own id', async () => {
    const a = await startConversation(app, { userId: 'wx-openid-123' });
    const b = await startConversation(app);
    expect(a.conversationId).not.toBe(b.conversationId);
  });

  it('rejects bad bodies with 400', async () => {
    const post = (payload: string, contentType = 'application/json') =>
      call(app, { method: 'POST', url: '/api/v1/conversations', payload, headers: { 'content-type': contentType } });
    expectError(await post('{"userId":'), 400, 'BAD_REQUEST');
    expectError(await post('{"userId":42}'), 400, 'BAD_REQUEST');
    expectError(await post('{"userId":"u1","admin":true}'), 400, 'BAD_REQUEST');
    expectError(await post('userId=u1', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('hello', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('POST /api/v1/conversations/:id/messages', () => {
  let app: FastifyInstance;
  let id: string;
  const url = () => `/api/v1/conversations/${id}/messages`;
  beforeAll(async () => {
    app = await newApp();
    id = (await startConversation(app)).conversationId;
  });

  it('answers a question with bot messages and the state', async () => {
    const r = await send(app, id, { text: '水费在哪交' });
    expect(r.messages.length).toBeGreaterThan(0);
    expect(r.messages.every((m) => m.from === 'bot' && m.text.length > 0)).toBe(true);
    // seq 1 is the greeting, seq 2 the user's message: the replies follow without gaps.
    expect(r.messages.map((m) => m.seq)).toEqual(r.messages.map((_, i) => 3 + i));
    expect(r.state).toEqual({ mode: 'bot', itemId: 'payment-channels' });
  });

  it('follows a quick-reply postback into a flow', async () => {
    const fresh = (await startConversation(app)).conversationId;
    const r = await send(app, fresh, { postback: 'flow:demolition' });
    expect(r.state).toEqual({ mode: 'flow', flowId: 'demolition' });
    expect(r.messages.at(-1)!.text).toContain('户号');
  });

  it('rejects malformed requests with 400 and leaves the transcript unchanged', async () => {
    const before = await history(app, id);
    const raw = (payload: string, contentType = 'application/json') => call(app, { method: 'POST', url: url(), payload, headers: { 'content-type': contentType } });
    const bad = [
      raw('{"text": "水费在哪交"'), // invalid JSON
      raw('{text: 1}'),
      raw(''), // empty JSON body
      raw('{}'), // neither text nor postback
      raw('{"message":"你好"}'),
      raw('{"text":1}'), // wrong types
      raw('{"text":null}'),
      raw('{"text":["你好"]}'),
      raw('{"postback":5}'),
      raw('{"postback":""}'),
      raw('{"text":"你好","postback":"yes"}'), // both
      raw('{"text":"你好","lang":"zh"}'), // extra field
      raw('["你好"]'),
      raw('"你好"'),
      raw('null'),
      raw('{"text":"你好","__proto__":{"admin":true}}'),
      call(app, { method: 'POST', url: url() }), // no body at all
    ];
    for (const res of await Promise.all(bad)) expectError(res, 400, 'BAD_REQUEST');
    const notJson = [raw('你好', 'text/plain'), raw('text=你好', 'application/x-www-form-urlencoded'), raw('<text>你好</text>', 'application/xml')];
    for (const res of await Promise.all(notJson)) expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await history(app, id)).toEqual(before);
  });

  it('accepts JSON with a charset parameter', async () => {
    const res = await call(app, { method: 'POST', url: url(), payload: JSON.stringify({ text: '你好' }), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(res.statusCode).toBe(200);
  });

  it('returns 404 for an unknown conversation, sending and reading', async () => {
    const unknown = randomUUID();
    expectError(await call(app, { method: 'POST', url: `/api/v1/conversations/${unknown}/messages`, payload: { text: '你好' } }), 404, 'CONVERSATION_NOT_FOUND');
    expectError(await call(app, { method: 'GET', url: `/api/v1/conversations/${unknown}/messages` }), 404, 'CONVERSATION_NOT_FOUND');
    expectError(await call(app, { method: 'GET', url: `/api/v1/conversations/${unknown}/messages?after=3` }), 404, 'CONVERSATION_NOT_FOUND');
  });

  it('limits text to 2000 characters, counted as characters not bytes or UTF-16 units', async () => {
    expect(MAX_TEXT).toBe(2000);
    const before = await history(app, id);
    expectError(await call(app, { method: 'POST', url: url(), payload: { text: '水'.repeat(2001) } }), 413, 'MESSAGE_TOO_LONG');
    expectError(await call(app, { method: 'POST', url: url(), payload: { text: '😀'.repeat(2001) } }), 413, 'MESSAGE_TOO_LONG');
    expectError(await call(app, { method: 'POST', url: url(), payload: { text: 'a'.repeat(100_000) } }), 413, 'MESSAGE_TOO_LONG');
    expect(await history(app, id)).toEqual(before);

    const han = await send(app, id, { text: '水'.repeat(2000) }); // 6000 bytes of UTF-8
    expect(han.messages.length).toBeGreaterThan(0);
    const emoji = await send(app, id, { text: '😀'.repeat(2000) }); // 4000 UTF-16 units
    expect(emoji.messages.length).toBeGreaterThan(0);
    const stored = await history(app, id, before.at(-1)!.seq);
    expect(stored.filter((m) => m.from === 'user').map((m) => m.text)).toEqual(['水'.repeat(2000), '😀'.repeat(2000)]);
  });

  it('answers emoji-only text politely', async () => {
    const r = await send(app, id, { text: '😀👍🌊' });
    expect(r.messages.length).toBeGreaterThan(0);
    expect(r.messages.every((m) => m.from === 'bot' && m.text.trim().length > 0)).toBe(true);
    expect(r.state.mode).toBe('bot');
  });

  it('treats HTML and script text as plain data', async () => {
    const attack = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const res = await call(app, { method: 'POST', url: url(), payload: { text: attack } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const r: Sent = res.json();
    expect(r.messages.length).toBeGreaterThan(0);
    for (const m of r.messages) {
      expect(m.from).toBe('bot');
      // The reply is the bot's own text (it may quote the input, but never answers with the markup itself).
      expect(m.text.trim().startsWith('<')).toBe(false);
      expect(m.text).toMatch(/[\u4e00-\u9fff]/);
    }
    // The transcript keeps the user's text verbatim, as data.
    const userMessage = (await history(app, id, r.messages[0]!.seq - 2)).find((m) => m.seq === r.messages[0]!.seq - 1);
    expect(userMessage).toMatchObject({ from: 'user', text: attack });
  });
});

describe('GET /api/v1/conversations/:id/messages', () => {
  it('returns the whole transcript in order, user messages each followed by their replies, and pages with after', async () => {
    const app = await newApp();
    const start = await startConversation(app);
    const id = start.conversationId;
    const inputs: ({ text: string } | { postback: string })[] = [{ text: '你好' }, { text: '过户要带什么材料' }, { postback: 'item:auto-debit' }, { text: '营业厅几点上班' }];
    const expected: Message[] = [...start.messages];
    for (const input of inputs) {
      const r = await send(app, id, input);
      expect(r.messages[0]!.seq).toBe(expected.length + 2);
      expected.push({ seq: expected.length + 1, from: 'user', text: 'text' in input ? input.text : input.postback, at: expect.any(String) as unknown as string }, ...r.messages);
    }

    const all = await history(app, id);
    expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all).toEqual(expected);
    expect(all.filter((m) => m.from === 'user').map((m) => m.text)).toEqual(['你好', '过户要带什么材料', 'item:auto-debit', '营业厅几点上班']);

    expect(await history(app, id, 0)).toEqual(all);
    const cut = all.findIndex((m) => m.text === '过户要带什么材料');
    expect(await history(app, id, all[cut]!.seq)).toEqual(all.slice(cut + 1));
    expect(await history(app, id, all.length)).toEqual([]);
    expect(await history(app, id, all.length + 50)).toEqual([]);
  });

  it('rejects a bad after with 400', async () => {
    const app = await newApp();
    const { conversationId } = await startConversation(app);
    for (const after of ['abc', '-1', '1.5']) {
      expectError(await call(app, { method: 'GET', url: `/api/v1/conversations/${conversationId}/messages?after=${after}` }), 400, 'BAD_REQUEST');
    }
  });
});

describe('unknown routes and bad URLs', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await newApp();
  });

  it('answers an unknown route or method with a JSON 404', async () => {
    expectError(await call(app, { method: 'GET', url: '/api/v1/nope' }), 404, 'NOT_FOUND');
    expectError(await call(app, { method: 'GET', url: '/' }), 404, 'NOT_FOUND');
    expectError(await call(app, { method: 'DELETE', url: `/api/v1/conversations/${randomUUID()}` }), 404, 'NOT_FOUND');
    expectError(await call(app, { method: 'PUT', url: `/api/v1/conversations/${randomUUID()}/messages`, payload: { text: '你好' } }), 404, 'NOT_FOUND');
  });

  it('answers an undecodable URL or an over-long id in the same error shape', async () => {
    expectError(await call(app, { method: 'GET', url: '/api/v1/conversations/%E0%A4%A/messages' }), 400, 'BAD_REQUEST');
    expectError(await call(app, { method: 'GET', url: `/api/v1/conversations/${'x'.repeat(300)}/messages` }), 400, 'BAD_REQUEST');
    expectError(await call(app, { method: 'POST', url: `/api/v1/conversations/${'x'.repeat(300)}/messages`, payload: { text: '你好' } }), 400, 'BAD_REQUEST');
  });
});

describe('GET /api/v1/applications/:ref', () => {
  const mobile = '13912345678';
  const idCard = idNumber('42010219850715003');
  const account = '1002345678';
  let app: FastifyInstance;
  let ref: string;

  beforeAll(async () => {
    expect(checkIdCard(idCard).ok).toBe(true);
    app = await newApp();
    const { conversationId: id } = await startConversation(app);
    // The demolition flow (拆迁销户一件事): 7 questions, then materials, summary and submit.
    const steps: [{ text: string } | { postback: string }, RegExp][] = [
      [{ postback: 'flow:demolition' }, /户号/],
      [{ text: account }, /名字/],
      [{ text: '张三' }, /身份证/],
      [{ text: idCard }, /手机/],
      [{ text: mobile }, /水费/],
      [{ text: '是' }, /代扣/],
      [{ text: '否' }, /哪天/],
      // 拆迁销户 takes no 告知承诺: the checklist goes straight to the summary.
      [{ text: '明天' }, /核对/],
    ];
    for (const [input, asks] of steps) {
      const r = await send(app, id, input);
      expect(r.state).toEqual({ mode: 'flow', flowId: 'demolition' });
      expect(r.messages.at(-1)!.text).toMatch(asks);
    }
    const done = await send(app, id, { text: '确认提交' });
    expect(done.state.mode).toBe('bot');
    expect(done.state.applicationRef).toMatch(/^WS\d{8}-\d{4,}$/);
    ref = done.state.applicationRef!;
    expect(done.messages.at(-1)!.text).toContain(ref);
    expect(done.messages.at(-1)!.card).toMatchObject({ type: 'application', ref });
  });

  it('returns the masked application for the right mobile', async () => {
    const res = await call(app, { method: 'GET', url: `/api/v1/applications/${ref}?mobile=${mobile}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ ref, flowId: 'demolition', status: 'submitted', mobile: '139****5678' });
    expect(body.dueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(body.fields.length).toBeGreaterThan(0);
    expect(body).not.toHaveProperty('answers');
    expect(body).not.toHaveProperty('conversationId');
    for (const secret of [mobile, idCard, idCard.slice(0, 17), account]) expect(res.body).not.toContain(secret);
  });

  it('finds the reference case-insensitively', async () => {
    const res = await call(app, { method: 'GET', url: `/api/v1/applications/${ref.toLowerCase()}?mobile=${mobile}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().ref).toBe(ref);
  });

  it('gives a wrong or missing mobile the same 404 as an unknown reference', async () => {
    const unknown = await call(app, { method: 'GET', url: `/api/v1/applications/WS20000101-9999?mobile=${mobile}` });
    expectError(unknown, 404, 'APPLICATION_NOT_FOUND');
    for (const query of ['?mobile=13912345679', '?mobile=', '', `?mobile=${mobile.slice(0, 10)}`]) {
      const res = await call(app, { method: 'GET', url: `/api/v1/applications/${ref}${query}` });
      expect(res.statusCode).toBe(404);
      expect(res.body).toBe(unknown.body);
      expect(res.body).not.toContain(ref);
    }
  });
});

describe('health', () => {
  it('/healthz and /readyz are 200 on memory stores', async () => {
    const app = await newApp();
    const live = await call(app, { method: 'GET', url: '/healthz' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await call(app, { method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', store: 'memory' });
  });

  it('/readyz is 503 when the store does not answer, without leaking the cause', async () => {
    const memory = createMemoryStores();
    const failing: Stores = { ...memory, ping: async () => { throw new Error('connect ECONNREFUSED 10.0.0.7:6379'); } };
    const app = await newApp(failing);
    const res = await call(app, { method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', error: { code: 'STORE_UNAVAILABLE' } });
    expect(res.body).not.toContain('ECONNREFUSED');
    expect((await call(app, { method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('a store that throws mid-request gives a JSON 500 without internals', async () => {
    const memory = createMemoryStores();
    const broken: Stores = {
      ...memory,
      sessions: { ...memory.sessions, get: async () => { throw new TypeError("Cannot read properties of undefined (reading 'state')"); }, set: memory.sessions.set.bind(memory.sessions), delete: memory.sessions.delete.bind(memory.sessions) },
    };
    const app = await newApp(broken);
    const res = await call(app, { method: 'POST', url: `/api/v1/conversations/${randomUUID()}/messages`, payload: { text: '你好' } });
    expectError(res, 500, 'INTERNAL');
    expect(res.body).not.toContain('Cannot read');
  });

  it('names the hotline of the knowledge in use at the time of the error (a reload changes it)', async () => {
    const memory = createMemoryStores();
    const broken: Stores = { ...memory, sessions: { ...memory.sessions, get: async () => { throw new Error('disk gone'); }, set: memory.sessions.set.bind(memory.sessions), delete: memory.sessions.delete.bind(memory.sessions) } };
    let hotline = '96510';
    const app = await newApp(broken, () => hotline);
    const ask = async () => (await call(app, { method: 'POST', url: `/api/v1/conversations/${randomUUID()}/messages`, payload: { text: '你好' } })).json().error.message as string;
    expect(await ask()).toContain('96510');
    hotline = '12345';
    expect(await ask()).toContain('12345');
  });
});

describe('English conversations', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await newApp();
  });

  it('greets a conversation created with lang en in English, with English button titles, and every reply carries lang', async () => {
    const { conversationId, messages } = await startConversation(app, { lang: 'en' });
    expect(messages).toHaveLength(1);
    expect(messages[0]!.lang).toBe('en');
    expect(messages[0]!.text).toMatch(/^Hello! I am the /);
    expect(messages[0]!.text).not.toMatch(/\p{Script=Han}{4}/u);
    const titles = messages[0]!.quickReplies!.map((q) => q.title);
    expect(titles).toContain(kb.items.get('repair-report')!.titleEn);
    expect(titles).not.toContain('故障报修');

    const sent = await send(app, conversationId, { text: 'my water meter is broken' });
    expect(sent.state.itemId).toBe('repair-report');
    expect(sent.messages.length).toBeGreaterThan(0);
    expect(sent.messages.map((m) => m.lang)).toEqual(sent.messages.map(() => 'en'));
    const guide = sent.messages[0]!.text;
    const item = kb.items.get('repair-report')!;
    // One reply: the English title and summary first, the Chinese guide below them.
    expect(guide.indexOf(item.titleEn)).toBe(0);
    expect(guide.indexOf(item.summaryEn)).toBeGreaterThan(0);
    expect(guide.indexOf(item.answer)).toBeGreaterThan(guide.indexOf(item.summaryEn));

    // A button press answers in the conversation's language; the stored transcript keeps lang.
    const click = await send(app, conversationId, { postback: 'item:repair-report:fees' });
    expect(click.messages.map((m) => m.lang)).toEqual(click.messages.map(() => 'en'));
    const all = await history(app, conversationId);
    expect(all.filter((m) => m.from === 'bot').every((m) => m.lang === 'en')).toBe(true);
  });

  it('answers a Chinese message in an English conversation in Chinese, and a Chinese conversation with lang zh on every reply', async () => {
    const en = await startConversation(app, { lang: 'en' });
    const zh = await send(app, en.conversationId, { text: '过户要带什么' });
    expect(zh.messages.map((m) => m.lang)).toEqual(zh.messages.map(() => 'zh'));
    expect(zh.messages[0]!.text).toContain('「房产交易水表过户」需要的材料');
    expect(zh.messages[0]!.text).not.toContain(kb.items.get('transfer-ownership')!.titleEn);

    const plain = await startConversation(app);
    expect(plain.messages.map((m) => m.lang)).toEqual(['zh']);
    const r = await send(app, plain.conversationId, { text: '水表坏了找谁' });
    expect(r.messages.map((m) => m.lang)).toEqual(r.messages.map(() => 'zh'));
  });
});
