/**
 * Simulated agents for bench:load: each logs in to the agent API, keeps the console socket open (presence and
 * the live queue), claims queued handoffs up to its capacity, greets, answers the user's first message after the
 * claim, and closes. Everything an agent posts is recorded per conversation, so the audit can find it stored.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { Message } from '../../src/core/index.js';
import { openAgentDirectory } from '../../src/handoff/index.js';

/** What the agents did, summed. */
export interface AgentStats {
  claimed: number;
  /** Claims another agent won first. */
  taken: number;
  replies: number;
  closed: number;
  /** Handoffs closed without a user message to answer (the user went the callback way meanwhile, or timed out). */
  unanswered: number;
  errors: number;
}

/** One agent account. */
export interface AgentAccount {
  login: string;
  name: string;
  password: string;
}

/** Creates `n` agent accounts straight in the cluster's Redis (what `cli agent add` does). */
export async function addAgents(redisUrl: string, prefix: string, n: number): Promise<AgentAccount[]> {
  const { agents, close } = await openAgentDirectory({ kind: 'redis', url: redisUrl, prefix });
  try {
    const out: AgentAccount[] = [];
    for (let i = 1; i <= n; i++) {
      const account = { login: `bench.agent${i}`, name: `坐席${i}`, password: randomBytes(12).toString('base64url') };
      await agents.add(account.login, account.name, account.password);
      out.push(account);
    }
    return out;
  } finally {
    await close();
  }
}

/** Settings of the simulated agents. */
export interface AgentOptions {
  /** Conversations one agent holds at once. */
  capacity: number;
  /** How long an agent waits for the user's message after greeting before closing anyway, in ms. */
  answerTimeoutMs: number;
  /** This agent's place in the team and the team's size: each queued handoff has one first taker, the others step in after `stepInMs`. */
  index: number;
  team: number;
  stepInMs: number;
}

/** The agent who takes a handoff first (a stable spread over the team), so agents rarely race for the same one. */
const firstTaker = (id: string, team: number) => [...id].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % team;

interface Held {
  conversationId: string;
  /** Seq of the bot's last message in the claim packet: the first user message after it is the one the bot left to the agent. */
  after: number;
  answered: boolean;
  timer?: NodeJS.Timeout;
}

/** A logged-in agent working the queue on one instance. */
export class SimulatedAgent {
  private cookie = '';
  private csrf = '';
  private resolution = '';
  private ws?: WebSocket;
  private readonly held = new Map<string, Held>();
  private readonly claiming = new Set<string>();
  /** When each queued handoff was first seen (for stepping in). */
  private readonly seen = new Map<string, number>();
  private serial = 0;
  private stopped = false;
  /** Calls under way: stop() waits for them, so nothing is posted after the audit starts reading. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly base: string,
    private readonly account: AgentAccount,
    private readonly opts: AgentOptions,
    private readonly stats: AgentStats,
    /** Agent texts posted, per conversation, in order. */
    private readonly posted: Map<string, string[]>,
  ) {}

  /** Logs in, reads the resolution codes, opens the console socket. */
  async start(): Promise<void> {
    this.csrf = (await this.call('GET', '/api/v1/agent/csrf')).csrfToken;
    const login = await this.call('POST', '/api/v1/agent/login', { login: this.account.login, password: this.account.password });
    this.csrf = login.csrfToken;
    const me = await this.call('GET', '/api/v1/agent/me');
    this.resolution = me.resolutions[0].code;
    this.ws = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}/api/v1/agent/socket`, { headers: { cookie: this.cookie } });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
    this.ws.on('message', (d) => this.onEvent(JSON.parse(d.toString())));
    this.ws.on('error', () => undefined);
  }

  /** Stops claiming and waits for the calls under way; what it still holds stays claimed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.ws?.terminate();
    while (this.pending.size) await Promise.all(this.pending);
  }

  /** Runs one piece of work, tracked until it settles. */
  private track(work: () => Promise<void>): void {
    if (this.stopped) return;
    const p = work().catch(() => void this.stats.errors++).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Handoffs this agent still holds. */
  get holding(): number {
    return this.held.size;
  }

  private onEvent(e: { type: string; items?: Array<{ id: string; status: string }>; handoffId?: string; messages?: Message[] }): void {
    if (e.type === 'queue' && !this.stopped) {
      const now = Date.now();
      const queued = new Set<string>();
      for (const item of e.items ?? []) {
        if (item.status !== 'queued' || this.held.has(item.id) || this.claiming.has(item.id)) continue;
        queued.add(item.id);
        if (!this.seen.has(item.id)) this.seen.set(item.id, now);
        if (this.held.size + this.claiming.size >= this.opts.capacity) continue;
        if (firstTaker(item.id, this.opts.team) !== this.opts.index && now - this.seen.get(item.id)! < this.opts.stepInMs) continue;
        this.claiming.add(item.id);
        this.track(() => this.claim(item.id));
      }
      for (const id of this.seen.keys()) if (!queued.has(id)) this.seen.delete(id);
    } else if (e.type === 'messages' && e.handoffId) {
      const h = this.held.get(e.handoffId);
      const first = h && !h.answered ? e.messages?.find((m) => m.from === 'user' && m.seq > h.after) : undefined;
      if (h && first) {
        h.answered = true;
        this.track(() => this.answer(e.handoffId!, h, first));
      }
    }
  }

  private async claim(id: string): Promise<void> {
    try {
      const r = await this.request('POST', `/api/v1/agent/handoffs/${id}/claim`, {});
      if (r.status === 409) return void this.stats.taken++;
      if (r.status !== 200) return void this.stats.errors++;
      const packet = r.body as { handoff: { conversationId: string }; messages: Message[] };
      this.stats.claimed++;
      // Not the "已接入" notice's seq: a user's message can be stored just before the notice, yet after the claim (the bot
      // already silent); the bot answers every message until the claim, so the first one after its last reply is ours.
      const after = Math.max(0, ...packet.messages.filter((m) => m.from === 'bot').map((m) => m.seq));
      const h: Held = { conversationId: packet.handoff.conversationId, after, answered: false };
      this.held.set(id, h);
      h.timer = setTimeout(() => this.track(() => this.close(id, h, false)), this.opts.answerTimeoutMs);
      await this.say(id, h, `您好，我是${this.account.name}，请讲。`);
      this.ws?.send(JSON.stringify({ type: 'watch', handoffId: id, after }));
    } finally {
      this.claiming.delete(id);
    }
  }

  private async answer(id: string, h: Held, m: Message): Promise<void> {
    clearTimeout(h.timer);
    if (await this.say(id, h, `收到您的问题（${m.seq}），已为您登记处理。`)) this.stats.replies++;
    await this.close(id, h, true);
  }

  /** Posts one agent message and records it; false when the API refused it (the handoff ended meanwhile). */
  private async say(id: string, h: Held, text: string): Promise<boolean> {
    // Unique per message, so the audit can tell each one apart.
    const line = `${text} #${this.account.login}-${++this.serial}`;
    const r = await this.request('POST', `/api/v1/agent/handoffs/${id}/messages`, { text: line }).catch(() => ({ status: 0, body: null }));
    if (r.status !== 200) return false;
    const list = this.posted.get(h.conversationId) ?? [];
    list.push(line);
    this.posted.set(h.conversationId, list);
    return true;
  }

  private async close(id: string, h: Held, answered: boolean): Promise<void> {
    if (this.held.get(id) !== h) return;
    this.held.delete(id);
    this.ws?.send(JSON.stringify({ type: 'unwatch', handoffId: id }));
    if (!answered) this.stats.unanswered++;
    const r = await this.request('POST', `/api/v1/agent/handoffs/${id}/close`, { resolution: this.resolution }).catch(() => ({ status: 0 }));
    if (r.status === 200) this.stats.closed++;
    else if (answered) this.stats.errors++;
  }

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    const r = await this.request(method, path, body);
    if (r.status !== 200) throw new Error(`${this.account.login}: ${method} ${path} answered ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** One JSON call with the session cookie and the CSRF token. */
  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    const res = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    for (const c of res.headers.getSetCookie()) this.cookie = c.split(';')[0]!;
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
}
