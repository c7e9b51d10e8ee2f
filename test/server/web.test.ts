import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebChannel, parseAllowedOrigins } from '../../src/channels/web/index.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { createMemoryBus } from '../../src/delivery/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { listen, Widget } from './web-helpers.js';

let kb: KnowledgeBase;
let classifier: Classifier;
const opened: FastifyInstance[] = [];
const sockets: Widget[] = [];

beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await Promise.all(opened.map((a) => a.close()));
});

/** A listening server with the web channel on memory stores and bus. */
async function server(allowedOrigins = 'https://www.example-water.cn') {
  const stores = createMemoryStores();
  const bus = createMemoryBus();
  const logger = createLogger('silent');
  const service = createConversationService({ kb, classifier, stores, logger, bus });
  const web = createWebChannel({ service, bus, allowedOrigins: parseAllowedOrigins(allowedOrigins), utility: kb.utility });
  const app = await buildServer({ service, stores, logger, channels: [web] });
  opened.push(app);
  const base = await listen(app);
  return { app, base, service };
}

async function open(base: string, id: string, token: string, opts?: Parameters<typeof Widget.open>[3]): Promise<Widget> {
  const w = await Widget.open(base, id, token, opts);
  sockets.push(w);
  return w;
}

const seqs = (ms: Message[]) => ms.map((m) => m.seq);

describe('widget socket', () => {
  let base: string;
  let service: ConversationService;
  beforeAll(async () => {
    ({ base, service } = await server());
  });

  it('catches up from after, then answers a send with typing and the messages in seq order, never twice', async () => {
    const c = await service.start();
    const w = await open(base, c.conversationId, c.token);
    await w.untilSeq(1);
    expect(w.events[0]).toEqual({ type: 'messages', messages: c.messages });
    w.send({ type: 'send', text: '水费在哪交', clientMessageId: 'a1' });
    await w.until((x) => x.messages.some((m) => m.from === 'bot' && m.seq > 2));
    await new Promise((r) => setTimeout(r, 100));
    expect(w.events.map((e) => e.type)).toContain('typing');
    expect(w.messages[1]).toMatchObject({ seq: 2, from: 'user', text: '水费在哪交' });
    expect(seqs(w.messages)).toEqual(seqs(await service.history(c.conversationId)));

    // The same clientMessageId again: no new message reaches the socket.
    const before = w.messages.length;
    w.send({ type: 'send', text: '水费在哪交', clientMessageId: 'a1' });
    await new Promise((r) => setTimeout(r, 200));
    expect(w.messages.length).toBe(before);
    expect((await service.history(c.conversationId)).length).toBe(before);
  });

  it('delivers agent messages posted by the service, and a reconnect with after gets only what it missed', async () => {
    const c = await service.start();
    const w = await open(base, c.conversationId, c.token);
    await w.untilSeq(1);
    await service.post(c.conversationId, [{ from: 'agent', text: '您好，人工客服为您服务', author: '人工客服 小李' }]);
    await w.untilSeq(2);
    expect(w.messages.at(-1)).toMatchObject({ seq: 2, from: 'agent', author: '人工客服 小李' });
    w.close();

    // While the socket is down: a REST turn and a system message.
    await service.send(c.conversationId, { text: '营业厅几点上班' });
    await service.post(c.conversationId, [{ from: 'system', text: '客服已离开' }]);
    const all = await service.history(c.conversationId);
    const again = await open(base, c.conversationId, c.token, { after: 2 });
    await again.untilSeq(all.at(-1)!.seq);
    expect(again.messages).toEqual(all.slice(2));
  });

  it('answers bad client events with error events and stays open', async () => {
    const c = await service.start();
    const w = await open(base, c.conversationId, c.token);
    await w.untilSeq(1);
    w.ws.send('{"type":"send", text');
    w.send({ type: 'send', text: '水'.repeat(2001), clientMessageId: 'long' });
    w.send({ type: 'send', clientMessageId: 'neither' });
    w.send({ type: 'delete' });
    await w.until((x) => x.events.filter((e) => e.type === 'error').length === 4);
    const errors = w.events.filter((e) => e.type === 'error');
    expect(errors.map((e) => [e.code, e.clientMessageId ?? null])).toEqual([['BAD_REQUEST', null], ['MESSAGE_TOO_LONG', 'long'], ['BAD_REQUEST', 'neither'], ['BAD_REQUEST', null]]);
    w.send({ type: 'send', text: '<img src=x onerror=alert(1)>' });
    await w.until((x) => x.messages.some((m) => m.from === 'bot' && m.seq > 2));
    expect(w.messages[1]!.text).toBe('<img src=x onerror=alert(1)>');
    expect((await service.history(c.conversationId)).length).toBe(w.messages.length);
  });

  it('refuses a wrong token, an unknown conversation and a foreign Origin before the upgrade', async () => {
    const c = await service.start();
    const other = await service.start();
    await expect(Widget.open(base, c.conversationId, other.token)).rejects.toThrow('HTTP 401');
    await expect(Widget.open(base, 'no-such-conversation', c.token)).rejects.toThrow('HTTP 404');
    await expect(Widget.open(base, c.conversationId, c.token, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    const allowed = await open(base, c.conversationId, c.token, { origin: 'https://www.example-water.cn' });
    await allowed.untilSeq(1);
    const same = await open(base, c.conversationId, c.token, { origin: base });
    await same.untilSeq(1);
  });

  it('tells open sockets to reconnect before a graceful shutdown', async () => {
    const s = await server();
    const c = await s.service.start();
    const w = await open(s.base, c.conversationId, c.token);
    await w.untilSeq(1);
    await s.app.close();
    await w.until((x) => x.events.some((e) => e.type === 'reconnect'));
  });
});

describe('REST with the token, long polling, CORS and the demo page', () => {
  let app: FastifyInstance;
  let base: string;
  let service: ConversationService;
  beforeAll(async () => {
    ({ app, base, service } = await server());
  });

  it('needs the conversation token on every conversation route', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload: { lang: 'zh' } });
    expect(res.statusCode).toBe(201);
    const { conversationId: id, token } = res.json();
    const url = `/api/v1/conversations/${id}/messages`;
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${token}`, token, `Bearer ${token}x`]) {
      const headers = authorization ? { authorization } : {};
      for (const r of [await app.inject({ method: 'GET', url, headers }), await app.inject({ method: 'POST', url, headers, payload: { text: '你好' } })]) {
        expect(r.statusCode).toBe(401);
        expect(r.json().error.code).toBe('UNAUTHORIZED');
      }
    }
    expect((await service.history(id)).length).toBe(1);
    const ok = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: { text: '你好', clientMessageId: 'k1' } });
    expect(ok.statusCode).toBe(200);
    const retry = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: { text: '你好', clientMessageId: 'k1' } });
    expect(retry.json()).toEqual({ ...ok.json(), duplicate: true });
  });

  it('long-polls: wait returns as soon as a message after `after` exists, or empty when the wait runs out', async () => {
    const c = await service.start();
    const headers = { authorization: `Bearer ${c.token}` };
    const url = (q: string) => `${base}/api/v1/conversations/${c.conversationId}/messages?${q}`;
    const immediate = await fetch(url('after=0&wait=20'), { headers });
    expect((await immediate.json()).messages).toHaveLength(1);

    const started = Date.now();
    const waiting = fetch(url('after=1&wait=20'), { headers }).then((r) => r.json());
    await new Promise((r) => setTimeout(r, 150));
    await service.post(c.conversationId, [{ from: 'agent', text: '在的' }]);
    const got = await waiting;
    expect(got.messages).toMatchObject([{ seq: 2, from: 'agent', text: '在的' }]);
    expect(Date.now() - started).toBeLessThan(5_000);

    const t0 = Date.now();
    const empty = await (await fetch(url('after=2&wait=0.3'), { headers })).json();
    expect(empty.messages).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect((await fetch(url('after=2&wait=26'), { headers })).status).toBe(400);
    expect((await fetch(url('after=0&limit=501'), { headers })).status).toBe(400);
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const preflight = (origin: string) => app.inject({ method: 'OPTIONS', url: '/api/v1/conversations', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    const ok = await preflight('https://www.example-water.cn');
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://www.example-water.cn');
    expect(String(ok.headers['access-control-allow-headers'])).toMatch(/authorization/i);
    const bad = await preflight('https://evil.example');
    expect(bad.statusCode).toBe(403);
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
    const post = await app.inject({ method: 'POST', url: '/api/v1/conversations', headers: { origin: 'https://evil.example' }, payload: {} });
    expect(post.statusCode).toBe(403);
    expect(post.json().error.code).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('serves the demo page at /', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain(kb.utility.name);
  });
});

describe('WIDGET_ALLOWED_ORIGINS', () => {
  it('parses *, a list, or nothing (same origin only)', () => {
    expect(parseAllowedOrigins('*')).toBe('*');
    expect(parseAllowedOrigins(' https://a.example , https://b.example:8443 ')).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(parseAllowedOrigins(undefined)).toEqual([]);
  });
});

describe('widget socket order and floods', () => {
  it("runs one socket's messages in the order sent, and refuses a flood without losing the accepted ones", async () => {
    const { base, service } = await server();
    const c = await service.start();
    const w = await open(base, c.conversationId, c.token);
    await w.untilSeq(1);
    const texts = Array.from({ length: 12 }, (_, i) => `第${i + 1}个问题：营业厅几点上班`);
    for (const [i, text] of texts.entries()) w.send({ type: 'send', text, clientMessageId: `f${i}` });
    await w.until((x) => x.events.some((e) => e.type === 'error' && e.code === 'RATE_LIMITED'));
    const accepted = 12 - w.events.filter((e) => e.code === 'RATE_LIMITED').length;
    expect(accepted).toBeGreaterThanOrEqual(8);
    await w.until((x) => x.messages.filter((m) => m.from === 'user').length === accepted);
    await new Promise((r) => setTimeout(r, 200));
    const users = (await service.history(c.conversationId, 0, 500)).filter((m) => m.from === 'user').map((m) => m.text);
    // The first eight always get in; later ones only as the queue drains. Whatever got in is stored in the order sent.
    expect(users).toHaveLength(accepted);
    expect(users.slice(0, 8)).toEqual(texts.slice(0, 8));
    expect(users).toEqual(texts.filter((t) => users.includes(t)));
  });
});

describe('long polls at shutdown', () => {
  it('answers a waiting long poll when the server closes, instead of holding it', async () => {
    const s = await server();
    const c = await s.service.start();
    const t0 = Date.now();
    const waiting = fetch(`${s.base}/api/v1/conversations/${c.conversationId}/messages?after=1&wait=20`, { headers: { authorization: `Bearer ${c.token}` } });
    await new Promise((r) => setTimeout(r, 150));
    await s.app.close();
    const res = await waiting;
    expect(res.status).toBe(200);
    expect((await res.json()).messages).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
