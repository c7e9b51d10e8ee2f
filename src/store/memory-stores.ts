import type { Application, Message } from '../core/index.js';
import { AppError } from '../core/index.js';
import { ExpiringMap } from './memory-expiring.js';
import { MemoryEventStore, MemoryOutboxStore } from './memory-outbox.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { protectStores } from './protect.js';
import type { ApplicationStore, AttemptLimiter, LockManager, NewMessage, SessionRecord, SessionStore, StoreOptions, Stores, TranscriptStore, TurnCommit } from './types.js';

/** Formats a reference number: WS20261128-0001. */
export function formatRef(day: string, n: number): string {
  return `WS${day}-${String(n).padStart(4, '0')}`;
}

/** All in-process data of one memory backend; conversations beyond the cap are evicted whole. */
class MemoryData {
  readonly sessions: ExpiringMap<string>;
  readonly transcripts: ExpiringMap<Message[]>;
  readonly turns = new Map<string, ExpiringMap<Message[]>>();
  readonly apps = new ExpiringMap<string>();
  readonly runs = new Map<string, string>();
  readonly counters = new Map<string, number>();
  readonly attempts = new ExpiringMap<number>();
  readonly outbox = new MemoryOutboxStore();
  readonly events: MemoryEventStore;
  constructor(readonly o: ResolvedOptions) {
    this.events = new MemoryEventStore(o.maxEvents);
    const forget = (id: string) => this.forget(id);
    this.sessions = new ExpiringMap(o.maxConversations, forget);
    this.transcripts = new ExpiringMap(o.maxConversations, forget);
  }
  /** Drops everything of one conversation (eviction). */
  forget(id: string): void {
    this.sessions.delete(id);
    this.transcripts.delete(id);
    this.turns.delete(id);
  }
  putApplication(app: Application): Application {
    const existing = app.runId ? this.runs.get(app.runId) : undefined;
    const kept = existing ? this.apps.get(existing) : undefined;
    if (kept) return JSON.parse(kept) as Application;
    const submitted = Date.parse(app.submittedAt);
    const from = Number.isFinite(submitted) ? submitted : Date.now();
    this.apps.set(app.ref, JSON.stringify(app), from + this.o.applicationRetentionMs - Date.now());
    if (app.runId) this.runs.set(app.runId, app.ref);
    return structuredClone(app);
  }
  appendMessages(id: string, messages: NewMessage[]): Message[] {
    const list = this.transcripts.get(id) ?? [];
    const added = messages.map((m, i) => ({ ...structuredClone(m), seq: list.length + i + 1 }));
    this.transcripts.set(id, [...list, ...added], this.o.transcriptTtlMs);
    return structuredClone(added);
  }
  setTurn(id: string, cmid: string, stored: Message[]): void {
    let map = this.turns.get(id);
    if (!map) this.turns.set(id, (map = new ExpiringMap()));
    map.set(cmid, structuredClone(stored), this.o.transcriptTtlMs);
  }
  getTurn(id: string, cmid: string): Message[] | null {
    const found = this.turns.get(id)?.get(cmid);
    return found ? structuredClone(found) : null;
  }
  /** Removes expired entries; the sweeper and `purge` call it. */
  sweep(now: number) {
    const sessions = this.sessions.sweep(now);
    const transcripts = this.transcripts.sweep(now);
    for (const [id, map] of this.turns) if (map.sweep(now) && map.size === 0) this.turns.delete(id);
    const applications = this.apps.sweep(now);
    for (const [run, ref] of this.runs) if (this.apps.get(ref, now) === undefined) this.runs.delete(run);
    this.attempts.sweep(now);
    return { sessions, transcripts, applications };
  }
}

/** In-process session store; values are copied so callers cannot mutate stored state. */
export class MemorySessionStore implements SessionStore {
  constructor(private readonly d: MemoryData) {}
  async get<S>(id: string): Promise<SessionRecord<S> | null> {
    const raw = this.d.sessions.get(id);
    return raw ? (JSON.parse(raw) as SessionRecord<S>) : null;
  }
  async set<S>(id: string, record: SessionRecord<S>): Promise<void> {
    this.d.sessions.set(id, JSON.stringify(record), this.d.o.ttlMs);
  }
  async delete(id: string): Promise<void> {
    this.d.sessions.delete(id);
  }
}

/** In-process transcript store. */
export class MemoryTranscriptStore implements TranscriptStore {
  constructor(private readonly d: MemoryData) {}
  async append(id: string, messages: NewMessage[]): Promise<Message[]> {
    return this.d.appendMessages(id, messages);
  }
  async list(id: string, after = 0, limit = Infinity): Promise<Message[]> {
    return structuredClone((this.d.transcripts.get(id) ?? []).filter((m) => m.seq > after).slice(0, limit));
  }
  async delete(id: string): Promise<void> {
    this.d.transcripts.delete(id);
    this.d.turns.delete(id);
  }
}

/** In-process application store with per-day counters. */
export class MemoryApplicationStore implements ApplicationStore {
  constructor(private readonly d: MemoryData) {}
  async nextRef(day: string): Promise<string> {
    const n = (this.d.counters.get(day) ?? 0) + 1;
    this.d.counters.set(day, n);
    return formatRef(day, n);
  }
  async save(app: Application): Promise<Application> {
    return this.d.putApplication(app);
  }
  async get(ref: string): Promise<Application | null> {
    const raw = this.d.apps.get(ref);
    return raw ? (JSON.parse(raw) as Application) : null;
  }
  async findByRun(runId: string): Promise<Application | null> {
    const ref = this.d.runs.get(runId);
    return ref ? this.get(ref) : null;
  }
  async updateStatus(ref: string, status: Application['status'], note?: string): Promise<Application | null> {
    const app = await this.get(ref);
    if (!app) return null;
    const next = withStatus(app, status, note);
    const submitted = Date.parse(app.submittedAt);
    const from = Number.isFinite(submitted) ? submitted : Date.now();
    this.d.apps.set(ref, JSON.stringify(next), from + this.d.o.applicationRetentionMs - Date.now());
    return next;
  }
}

/** The application with a new status, its note (or none) and the time of the change. */
export function withStatus(app: Application, status: Application['status'], note?: string): Application {
  const { statusNote: _n, ...rest } = app;
  return { ...rest, status, ...(note ? { statusNote: note } : {}), statusUpdatedAt: new Date().toISOString() };
}

/** In-process failure counter with lockout. */
export class MemoryAttemptLimiter implements AttemptLimiter {
  constructor(private readonly d: MemoryData) {}
  async blocked(key: string): Promise<boolean> {
    return (this.d.attempts.get(key) ?? 0) >= this.d.o.attemptsMax;
  }
  async fail(key: string): Promise<void> {
    const n = (this.d.attempts.get(key) ?? 0) + 1;
    this.d.attempts.set(key, n, this.d.o.attemptsLockMs);
  }
  async reset(key: string): Promise<void> {
    this.d.attempts.delete(key);
  }
}

/** Per-key promise chain: work for one key runs strictly in arrival order. */
export class MemoryLockManager implements LockManager {
  private readonly tails = new Map<string, Promise<unknown>>();
  constructor(private readonly timeoutMs: number) {}
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(key, tail);
    try {
      // Nobody holds the key (the usual case): no wait, so no timer to arm and clear.
      if (prev) await withTimeout(prev, this.timeoutMs);
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError('CONVERSATION_BUSY')), ms);
  });
  try {
    await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A commit on memory: every write is prepared first and applied synchronously, so no reader sees half of it. */
function memoryCommit(d: MemoryData, c: TurnCommit): Message[] {
  const hook = d.o.faultHook;
  if (c.clientMessageId) {
    const done = d.getTurn(c.conversationId, c.clientMessageId);
    if (done) return done;
  }
  hook?.('applications');
  hook?.('session');
  const sessionJson = JSON.stringify(c.session);
  hook?.('transcript');
  hook?.('turn');
  // From here on nothing can throw between the writes.
  for (const app of c.applications) d.putApplication(app);
  if (c.outbox?.length) d.outbox.put(c.outbox);
  d.sessions.set(c.conversationId, sessionJson, d.o.ttlMs);
  const stored = d.appendMessages(c.conversationId, c.messages);
  if (c.clientMessageId) d.setTurn(c.conversationId, c.clientMessageId, stored);
  if (c.events?.length) d.events.put(c.events);
  hook?.('committed');
  return stored;
}

/** Starts an unref'd sweeper; returns its stopper. */
export function startSweeper(intervalMs: number, sweep: () => unknown): () => void {
  if (!intervalMs) return () => undefined;
  const timer = setInterval(() => {
    try {
      void Promise.resolve(sweep()).catch(() => undefined);
    } catch {
      // A failed sweep is retried at the next tick.
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Creates the in-memory stores (tests): TTL sweeper, size cap, same contract as the durable backends. */
export function createMemoryStores(options: StoreOptions = {}): Stores {
  const o = resolveOptions(options);
  const d = new MemoryData(o);
  const stop = startSweeper(o.sweepIntervalMs, () => d.sweep(Date.now()));
  const stores: Stores = {
    backend: 'memory',
    sessions: new MemorySessionStore(d),
    transcripts: new MemoryTranscriptStore(d),
    applications: new MemoryApplicationStore(d),
    attempts: new MemoryAttemptLimiter(d),
    locks: new MemoryLockManager(o.lockTimeoutMs),
    outbox: d.outbox,
    events: d.events,
    commitTurn: async (commit) => memoryCommit(d, commit),
    findTurn: async (id, cmid) => d.getTurn(id, cmid),
    purge: async (now = new Date()) => d.sweep(now.getTime()),
    size: async () => ({ sessions: d.sessions.size, transcripts: d.transcripts.size, applications: d.apps.size }),
    async ping() {},
    async close() {
      stop();
    },
  };
  return protectStores(stores, options.cipher);
}
