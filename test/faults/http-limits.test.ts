import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationService } from '../../src/conversation/index.js';
import { AppError, createLogger } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer, type ServerOptions } from '../../src/server/index.js';
import { createClient } from 'redis';
import { createMemoryStores, createRedisStores, type Stores } from '../../src/store/index.js';
import { redisSuite } from '../helpers/redis.js';

let kb: KnowledgeBase;
let classifier: Classifier;
const opened: FastifyInstance[] = [];
beforeAll(() => {
  kb = loadKnowledge();
  classifier = createClassifier(kb);
});
afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
});

async function newApp(opts: Partial<ServerOptions> = {}, stores: Stores = createMemoryStores()): Promise<FastifyInstance> {
  const logger = createLogger('silent');
  const service = createConversationService({ kb, classifier, stores, logger });
  const app = await buildServer({ service, stores, logger, hotline: kb.utility.hotline, ...opts });
  opened.push(app);
  return app;
}

/** Sends raw bytes to a listening app and returns the raw response. */
async function rawRequest(app: FastifyInstance, bytes: string): Promise<string> {
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

function bodyOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

describe('headers', () => {
  it('sends helmet headers, and no-store on API responses', async () => {
    const app = await newApp();
    const res = await app.inject({ method: 'POST', url: '/api/v1/conversations' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['cache-control']).toBe('no-store');
    const { conversationId: id, token } = res.json() as { conversationId: string; token: string };
    const history = await app.inject({ method: 'GET', url: `/api/v1/conversations/${id}/messages`, headers: { authorization: `Bearer ${token}` } });
    expect(history.headers['cache-control']).toBe('no-store');
    const lookup = await app.inject({ method: 'GET', url: '/api/v1/applications/WS20260101-0001?mobile=13800000000' });
    expect(lookup.headers['cache-control']).toBe('no-store');
  });
});

describe('Fastify and Node errors through the catalogue', () => {
  it('415 for a body that is not JSON, in Chinese', async () => {
    const app = await newApp();
    const res = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload: 'hi', headers: { 'content-type': 'text/plain' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: '不支持的内容类型，请以 application/json 发送' } });
  });

  it('400 with a Chinese message for invalid JSON, never the parser English', async () => {
    const app = await newApp();
    const res = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload: '{"a":', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'BAD_REQUEST', message: '请求内容不是有效的 JSON' } });
  });

  it('431 for oversized headers and 400 for a malformed request line, as {error:{code,message}}', async () => {
    const app = await newApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const big = await rawRequest(app, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1.1 431/);
    expect(bodyOf(big)).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: '请求头过大' } });
    const bad = await rawRequest(app, 'GARBAGE\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1.1 400/);
    expect(bodyOf(bad)).toEqual({ error: { code: 'BAD_REQUEST', message: '请求格式不正确' } });
  });

  it('names the hotline from utility.yaml in 503s', async () => {
    const memory = createMemoryStores();
    const broken: Stores = { ...memory, sessions: { ...memory.sessions, get: async () => Promise.reject(new AppError('STORE_UNAVAILABLE')), set: memory.sessions.set.bind(memory.sessions), delete: memory.sessions.delete.bind(memory.sessions) } };
    const app = await newApp({}, broken);
    const res = await app.inject({ method: 'POST', url: '/api/v1/conversations/x/messages', payload: { text: '你好' } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toBe(`系统繁忙，请稍后再试或拨打 ${kb.utility.hotline}`);
  });
});

describe('text validation', () => {
  it('rejects empty text, NUL and lone surrogates with 400, and keeps the transcript unchanged', async () => {
    const app = await newApp();
    const { conversationId, token } = (await app.inject({ method: 'POST', url: '/api/v1/conversations' })).json() as { conversationId: string; token: string };
    const url = `/api/v1/conversations/${conversationId}/messages`;
    const authorization = `Bearer ${token}`;
    const before = (await app.inject({ method: 'GET', url, headers: { authorization } })).json().messages;
    const cases: Array<[string, string]> = [
      ['{"text":""}', 'EMPTY_MESSAGE'],
      ['{"text":"水费\\u0000怎么交"}', 'INVALID_TEXT'],
      ['{"text":"坏\\ud800字"}', 'INVALID_TEXT'],
      ['{"text":"\\udc00"}', 'INVALID_TEXT'],
      ['{"postback":"yes\\u0000"}', 'INVALID_TEXT'],
    ];
    for (const [payload, code] of cases) {
      const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', authorization } });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error.code, payload).toBe(code);
    }
    // A well-formed pair (emoji) is fine.
    expect((await app.inject({ method: 'POST', url, payload: { text: '😀' }, headers: { authorization } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url, headers: { authorization } })).json().messages).toHaveLength(before.length + 2);
  });
});

describe('rate limits', () => {
  it('limits loopback clients too, exempts health routes, and counts per forwarded client behind a trusted proxy', async () => {
    const app = await newApp({ rateLimitMax: 3, trustProxy: ['127.0.0.1'] });
    const hit = (ip?: string) => app.inject({ method: 'GET', url: '/api/v1/applications/WS20260101-0001?mobile=13800000000', ...(ip ? { headers: { 'x-forwarded-for': ip } } : {}) });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await hit()).statusCode);
    expect(codes).toEqual([404, 404, 404, 429, 429]);
    const limited = await hit();
    expect(limited.json()).toEqual({ error: { code: 'RATE_LIMITED', message: '请求过于频繁，请稍后再试' } });
    // Another client behind the same proxy has its own count.
    expect((await hit('203.0.113.7')).statusCode).toBe(404);
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('application lookup attempts', () => {
  it('locks a reference number after 5 wrong mobiles with the same 404, even for the right one', async () => {
    const stores = createMemoryStores();
    const app = await newApp({}, stores);
    const ref = await stores.applications.nextRef('20261201');
    await stores.applications.save({
      ref, flowId: 'buy-house', title: '二手房用水一件事', conversationId: 'c', answers: {}, fields: [], items: [], checklist: [],
      mobile: '13812345678', status: 'submitted', submittedAt: new Date().toISOString(), dueDate: '2026-12-04', timeLimit: { value: 3, unit: '工作日' }, nextSteps: [],
    });
    const look = (mobile: string) => app.inject({ method: 'GET', url: `/api/v1/applications/${ref}?mobile=${mobile}` });
    expect((await look('13812345678')).statusCode).toBe(200);
    const wrong = await look('13900000000');
    expect(wrong.statusCode).toBe(404);
    for (let i = 0; i < 4; i++) await look(`1390000000${i + 1}`);
    const locked = await look('13812345678');
    expect(locked.statusCode).toBe(404);
    expect(locked.body).toBe(wrong.body);
    // Another reference number is not affected.
    expect((await app.inject({ method: 'GET', url: '/api/v1/applications/WS20261201-9999?mobile=13812345678' })).body).toBe(wrong.body);
  });
});

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-rl-${Math.random().toString(36).slice(2, 10)}`;
const shared = await redisSuite('shared rate limits', redisUrl, prefix);

shared('shared rate limits', () => {
  const stores: Stores[] = [];
  afterAll(async () => {
    const client = createClient({ url: redisUrl });
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 200 })) if (keys.length) await client.del(keys);
    await client.close();
    await Promise.all(stores.map((s) => s.close()));
  });

  it('counts one client across two instances in Redis mode', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const apps: FastifyInstance[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await createRedisStores(redisUrl, { prefix });
      stores.push(s);
      apps.push(await newApp({ rateLimitMax: 4, trustProxy: true }, s));
    }
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await apps[i % 2]!.inject({ method: 'GET', url: '/api/v1/applications/WS20260101-0001?mobile=13800000000', headers: { 'x-forwarded-for': ip } });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([404, 404, 404, 404, 429, 429]);
    const client = createClient({ url: redisUrl });
    await client.connect();
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}:rate-limit:*`, COUNT: 200 })) keys.push(...batch);
    await client.close();
    expect(keys.length).toBeGreaterThan(0);
  });
});
