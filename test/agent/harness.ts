import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createClient } from 'redis';
import WebSocket from 'ws';
import { agentConsole } from '../../src/agent/index.js';
import { createChannelRegistry } from '../../src/channels/registry.js';
import { createTelegramChannel } from '../../src/channels/telegram/index.js';
import { createWechatChannel } from '../../src/channels/wechat/index.js';
import { createWebChannel } from '../../src/channels/web/index.js';
import { createConversationService, maskerFor, type ConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { createBus, type MessageBus } from '../../src/delivery/index.js';
import { createHandoff, type HandoffArea, type HandoffSettings } from '../../src/handoff/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, createRedisStores, type Stores } from '../../src/store/index.js';

let shared: { kb: KnowledgeBase; classifier: Classifier } | undefined;
/** The knowledge base and classifier, loaded once per test file. */
export function knowledge() {
  if (!shared) {
    const kb = loadKnowledge('knowledge', 'flows');
    shared = { kb, classifier: createClassifier(kb) };
  }
  return shared;
}

/** One running server with the handoff and the console, on memory or on Redis under `prefix`. */
export interface Instance {
  app: FastifyInstance;
  url: string;
  service: ConversationService;
  handoff: HandoffArea;
  stores: Stores;
  bus: MessageBus;
  close(): Promise<void>;
}

/** Options of an instance. */
export interface InstanceOptions {
  redis?: { url: string; prefix: string };
  settings?: Partial<HandoffSettings>;
  telegram?: { token: string; apiRoot: string; secret: string };
  wechat?: { token: string; appId: string; appSecret: string; apiBase: string };
  sweepMs?: number;
  heartbeatMs?: number;
  loginRateMax?: number;
  /** The server-wide rate limit (RATE_LIMIT_MAX); unset: off. */
  rateLimitMax?: number;
}

/** Starts an instance listening on a random port. */
export async function startInstance(opts: InstanceOptions = {}): Promise<Instance> {
  const { kb, classifier } = knowledge();
  const logger = createLogger('silent');
  const stores = opts.redis ? await createRedisStores(opts.redis.url, { prefix: opts.redis.prefix }) : createMemoryStores();
  const bus = await createBus({ redisUrl: opts.redis?.url, prefix: opts.redis?.prefix, logger });
  const settings: HandoffSettings = { maxWaitS: 300, claimGraceS: 60, avgHandleS: 240, sessionTtlS: 3600, ...opts.settings };
  const handoff = await createHandoff({ backend: opts.redis ? { kind: 'redis', ...opts.redis } : { kind: 'memory' }, kb, knowledgeDir: 'knowledge', stores, bus, logger, mask: maskerFor(kb), settings, sweepMs: opts.sweepMs ?? 200 });
  const channels = createChannelRegistry();
  const service = createConversationService({ kb, classifier, stores, logger, bus, channels, middleware: handoff.middleware, effects: handoff.effects });
  handoff.attach(service);
  channels.add(createWebChannel({ service, bus, utility: kb.utility }));
  if (opts.telegram) channels.add(createTelegramChannel({ service, token: opts.telegram.token, webhookSecret: opts.telegram.secret, apiRoot: opts.telegram.apiRoot, mode: 'webhook', logger, stores }));
  if (opts.wechat) channels.add(createWechatChannel({ service, ...opts.wechat, logger, stores }));
  const plugin = agentConsole({ handoff: handoff.service, kb, classifier, stores, bus, sessionSecret: 'a-test-secret-of-at-least-32-characters!', sessionTtlS: 3600, secureCookie: false, loginRateMax: opts.loginRateMax ?? 20, heartbeatMs: opts.heartbeatMs ?? 200, pollMs: 100 });
  const app = await buildServer({ service, stores, logger, channels: channels.list(), plugins: [plugin], ...(opts.rateLimitMax ? { rateLimitMax: opts.rateLimitMax } : {}) });
  await handoff.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app, url, service, handoff, stores, bus,
    async close() {
      await app.close();
      await handoff.close();
      await bus.close();
      await stores.close();
    },
  };
}

/** A fresh Redis key prefix and a function deleting every key under it. */
export function redisPrefix(url: string, label: string) {
  const prefix = `wsa-test-${label}-${process.pid}-${randomUUID().slice(0, 8)}`;
  return {
    prefix,
    async cleanup() {
      const client = createClient({ url });
      client.on('error', () => undefined);
      await client.connect();
      for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) if (keys.length) await client.del(keys);
      await client.close();
    },
  };
}

/** The JSON answer of a call: status and body. */
export interface Answer<T = any> {
  status: number;
  body: T;
}

/** An agent's browser: cookie jar, CSRF token, JSON calls, the console socket. */
export class AgentClient {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  async call<T = any>(method: string, path: string, body?: unknown, opts: { csrf?: boolean } = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && opts.csrf !== false && this.csrf) headers['x-csrf-token'] = this.csrf;
    const res = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const set = res.headers.getSetCookie();
    for (const c of set) {
      const [pair] = c.split(';');
      this.cookie = /=;|=$/.test(pair!) || /max-age=0/i.test(c) ? '' : pair!;
    }
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** GET csrf, then POST login. */
  async login(login: string, password: string): Promise<Answer> {
    const t = await this.call('GET', '/api/v1/agent/csrf');
    this.csrf = t.body.csrfToken;
    const r = await this.call('POST', '/api/v1/agent/login', { login, password });
    if (r.status === 200) this.csrf = r.body.csrfToken;
    return r;
  }

  /** Opens the console socket with the session cookie. */
  socket(): Promise<ConsoleSocket> {
    return ConsoleSocket.open(this.base.replace(/^http/, 'ws') + '/api/v1/agent/socket', this.cookie);
  }
}

/** The console socket, recording every event. */
export class ConsoleSocket {
  readonly events: any[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.events.push(JSON.parse(d.toString()));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(url: string, cookie: string): Promise<ConsoleSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { cookie } });
      const s = new ConsoleSocket(ws);
      ws.once('open', () => resolve(s));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
    });
  }
  send(e: unknown): void {
    this.ws.send(JSON.stringify(e));
  }
  /** Waits until an event satisfies `pred`. */
  async until<T = any>(pred: (e: any) => boolean, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no console event matched in ${timeoutMs} ms; got ${JSON.stringify(this.events.slice(-5)).slice(0, 800)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  /** Every message of a handoff received so far, in arrival order. */
  messages(handoffId: string): Message[] {
    return this.events.filter((e) => e.type === 'messages' && e.handoffId === handoffId).flatMap((e) => e.messages);
  }
  close(): void {
    this.ws.terminate();
  }
}

/** A widget user over REST and the conversation socket. */
export class WidgetUser {
  id = '';
  token = '';
  readonly received: Message[] = [];
  private ws?: WebSocket;
  constructor(readonly base: string) {}

  async start(): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { conversationId: string; token: string; messages: Message[] };
    this.id = body.conversationId;
    this.token = body.token;
    this.received.push(...body.messages);
  }

  /** Opens the widget socket after the last seq seen. */
  connect(): Promise<void> {
    const after = this.received.at(-1)?.seq ?? 0;
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}/api/v1/conversations/${this.id}/socket?token=${this.token}&after=${after}`, { headers: { origin: this.base } });
      this.ws.on('message', (d) => {
        const e = JSON.parse(d.toString());
        if (e.type === 'messages') for (const m of e.messages as Message[]) if (!this.received.some((r) => r.seq === m.seq)) this.received.push(m);
      });
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  /** Sends over REST; returns the turn's replies. */
  async say(input: string | { postback: string }): Promise<Message[]> {
    const body = typeof input === 'string' ? { text: input } : input;
    const res = await fetch(`${this.base}/api/v1/conversations/${this.id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` }, body: JSON.stringify(body) });
    const r = (await res.json()) as { messages: Message[] };
    if (res.status !== 200) throw new Error(`send failed: ${res.status} ${JSON.stringify(r)}`);
    return r.messages;
  }

  /** Waits until a received message satisfies `pred`. */
  async until(pred: (m: Message) => boolean, timeoutMs = 5_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.received.find(pred);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no widget message matched; got ${JSON.stringify(this.received.slice(-4).map((x) => [x.from, x.text])).slice(0, 600)}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }
  close(): void {
    this.ws?.terminate();
  }
}
