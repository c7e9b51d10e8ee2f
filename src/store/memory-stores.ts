import type { Application, Message } from '../core/index.js';
import { AppError } from '../core/index.js';
import type {
  ApplicationStore,
  LockManager,
  NewMessage,
  SessionRecord,
  SessionStore,
  StoreOptions,
  Stores,
  TranscriptStore,
} from './types.js';
import { sequentialCommit, type TurnIndex } from './sequential-commit.js';

const DAY = 86_400;

/** Expiring map entries, checked on read. */
class Expiring<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();
  constructor(private readonly ttlMs: number) {}
  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires < Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: V): void {
    this.map.set(key, { value, expires: Date.now() + this.ttlMs });
  }
  touch(key: string): void {
    const e = this.map.get(key);
    if (e) e.expires = Date.now() + this.ttlMs;
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

/** In-process session store; values are copied so callers cannot mutate stored state. */
export class MemorySessionStore implements SessionStore {
  private readonly data: Expiring<string>;
  constructor(ttlSeconds: number) {
    this.data = new Expiring(ttlSeconds * 1000);
  }
  async get<S>(id: string): Promise<SessionRecord<S> | null> {
    const raw = this.data.get(id);
    return raw ? (JSON.parse(raw) as SessionRecord<S>) : null;
  }
  async set<S>(id: string, record: SessionRecord<S>): Promise<void> {
    this.data.set(id, JSON.stringify(record));
  }
  async delete(id: string): Promise<void> {
    this.data.delete(id);
  }
}

/** In-process transcript store. */
export class MemoryTranscriptStore implements TranscriptStore {
  private readonly data: Expiring<Message[]>;
  constructor(ttlSeconds: number) {
    this.data = new Expiring(ttlSeconds * 1000);
  }
  async append(id: string, messages: NewMessage[]): Promise<Message[]> {
    const list = this.data.get(id) ?? [];
    const added = messages.map((m, i) => ({ ...structuredClone(m), seq: list.length + i + 1 }));
    list.push(...added);
    this.data.set(id, list);
    return structuredClone(added);
  }
  async list(id: string, after = 0): Promise<Message[]> {
    return structuredClone((this.data.get(id) ?? []).filter((m) => m.seq > after));
  }
  async delete(id: string): Promise<void> {
    this.data.delete(id);
  }
}

/** In-process application store with per-day counters. */
export class MemoryApplicationStore implements ApplicationStore {
  private readonly counters = new Map<string, number>();
  private readonly apps = new Map<string, string>();
  async nextRef(day: string): Promise<string> {
    const n = (this.counters.get(day) ?? 0) + 1;
    this.counters.set(day, n);
    return formatRef(day, n);
  }
  async save(app: Application): Promise<void> {
    this.apps.set(app.ref, JSON.stringify(app));
  }
  async get(ref: string): Promise<Application | null> {
    const raw = this.apps.get(ref);
    return raw ? (JSON.parse(raw) as Application) : null;
  }
}

/** Formats a reference number: WS20261128-0001. */
export function formatRef(day: string, n: number): string {
  return `WS${day}-${String(n).padStart(4, '0')}`;
}

/** Per-key promise chain: work for one key runs strictly in arrival order. */
export class MemoryLockManager implements LockManager {
  private readonly tails = new Map<string, Promise<unknown>>();
  constructor(private readonly timeoutMs: number) {}
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    try {
      await withTimeout(prev, this.timeoutMs);
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

/** Creates the in-memory stores (the embedded default). */
export function createMemoryStores(options: StoreOptions = {}): Stores {
  const ttl = options.ttlSeconds ?? 7 * DAY;
  const sessions = new MemorySessionStore(ttl);
  const transcripts = new MemoryTranscriptStore(ttl);
  const applications = new MemoryApplicationStore();
  const turnMap = new Expiring<Message[]>(ttl * 1000);
  const turns: TurnIndex = {
    async get(id, cmid) {
      const found = turnMap.get(`${id}\u0000${cmid}`);
      return found ? structuredClone(found) : null;
    },
    async set(id, cmid, messages) {
      turnMap.set(`${id}\u0000${cmid}`, structuredClone(messages));
    },
  };
  return {
    backend: 'memory',
    sessions,
    transcripts,
    applications,
    locks: new MemoryLockManager(options.lockTimeoutMs ?? 10_000),
    commitTurn: (commit) => sequentialCommit({ sessions, transcripts, applications, turns }, commit),
    findTurn: (id, cmid) => turns.get(id, cmid),
    async ping() {},
    async close() {},
  };
}
