import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import type { Application, Message } from '../core/index.js';
import { AppError } from '../core/index.js';
import { MemoryLockManager, formatRef } from './memory-stores.js';
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

/** The client the stores use: `createClient` without modules or scripts (RESP3 by default). */
export type RedisClient = ReturnType<typeof newClient>;

const DAY = 86_400;
const CONNECT_TIMEOUT_MS = 2_000;
// Reference counters only matter while their day can still be issued; a margin covers clock skew.
const REF_COUNTER_TTL_SECONDS = 3 * DAY;
const LOCK_LEASE_MS = 30_000;

const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** Builds `<prefix>:<kind>:<id>` keys. */
function keyOf(prefix: string, kind: string, id: string): string {
  return `${prefix}:${kind}:${id}`;
}

/** Runs a Redis call, turning backend failures into STORE_UNAVAILABLE (503) with the cause kept. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('STORE_UNAVAILABLE', undefined, { cause: err });
  }
}

/** EXPIRE wants whole seconds of at least 1. */
function wholeSeconds(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds));
}

/** Session store on Redis strings with a TTL refreshed on every write. */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}
  async get<S>(id: string): Promise<SessionRecord<S> | null> {
    const raw = await guarded(() => this.client.get(this.key(id)));
    return raw === null ? null : (JSON.parse(raw) as SessionRecord<S>);
  }
  async set<S>(id: string, record: SessionRecord<S>): Promise<void> {
    const value = JSON.stringify(record);
    await guarded(() => this.client.set(this.key(id), value, { expiration: { type: 'EX', value: wholeSeconds(this.ttlSeconds) } }));
  }
  async delete(id: string): Promise<void> {
    await guarded(() => this.client.del(this.key(id)));
  }
  private key(id: string): string {
    return keyOf(this.prefix, 'session', id);
  }
}

/**
 * Transcript store on a Redis list of JSON messages. A message's seq is its 1-based list position:
 * one RPUSH of all new messages is atomic and returns the new length, so concurrent appenders from
 * any number of processes get gap-free, non-overlapping ranges without a separate counter.
 */
export class RedisTranscriptStore implements TranscriptStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}
  async append(id: string, messages: NewMessage[]): Promise<Message[]> {
    if (messages.length === 0) return [];
    const key = this.key(id);
    const values = messages.map((m) => JSON.stringify(m));
    const [length] = await guarded(() =>
      this.client.multi().rPush(key, values).expire(key, wholeSeconds(this.ttlSeconds)).exec(),
    );
    const first = Number(length) - messages.length + 1;
    return values.map((raw, i) => toMessage(raw, first + i));
  }
  async list(id: string, after = 0): Promise<Message[]> {
    const start = Math.max(0, Math.floor(after));
    const raws = await guarded(() => this.client.lRange(this.key(id), start, -1));
    return raws.map((raw, i) => toMessage(raw, start + i + 1));
  }
  async delete(id: string): Promise<void> {
    await guarded(() => this.client.del(this.key(id)));
  }
  private key(id: string): string {
    return keyOf(this.prefix, 'transcript', id);
  }
}

/** Parses a stored message and attaches its position-derived seq (last, so it always wins). */
function toMessage(raw: string, seq: number): Message {
  return { ...(JSON.parse(raw) as NewMessage), seq };
}

/** Applications as JSON strings (no TTL) and per-day INCR reference counters. */
export class RedisApplicationStore implements ApplicationStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
  ) {}
  async nextRef(day: string): Promise<string> {
    const key = keyOf(this.prefix, 'ref-counter', day);
    const [n] = await guarded(() => this.client.multi().incr(key).expire(key, REF_COUNTER_TTL_SECONDS).exec());
    return formatRef(day, Number(n));
  }
  async save(app: Application): Promise<void> {
    const value = JSON.stringify(app);
    await guarded(() => this.client.set(keyOf(this.prefix, 'app', app.ref), value));
  }
  async get(ref: string): Promise<Application | null> {
    const raw = await guarded(() => this.client.get(keyOf(this.prefix, 'app', ref)));
    return raw === null ? null : (JSON.parse(raw) as Application);
  }
}

/**
 * Distributed lock per key: SET NX PX with a random token, released by compare-and-delete.
 * Waiters in this process queue locally first, so they acquire in arrival order and only one
 * of them polls Redis; the lease is renewed while the work runs so slow work keeps the lock.
 */
export class RedisLockManager implements LockManager {
  private readonly local: MemoryLockManager;
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly timeoutMs = 10_000,
    private readonly leaseMs = LOCK_LEASE_MS,
  ) {
    this.local = new MemoryLockManager(timeoutMs);
  }
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    return this.local.withLock(key, () => this.holding(keyOf(this.prefix, 'lock', key), deadline, fn));
  }
  private async holding<T>(lockKey: string, deadline: number, fn: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    await this.acquire(lockKey, token, deadline);
    const renewal = setInterval(() => void this.extend(lockKey, token), Math.max(10, Math.floor(this.leaseMs / 3)));
    renewal.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      // A failed release must not mask fn's outcome; the lease frees the key anyway.
      await this.release(lockKey, token).catch(() => undefined);
    }
  }
  private async acquire(lockKey: string, token: string, deadline: number): Promise<void> {
    for (;;) {
      const ok = await guarded(() =>
        this.client.set(lockKey, token, { condition: 'NX', expiration: { type: 'PX', value: this.leaseMs } }),
      );
      if (ok !== null) return;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new AppError('CONVERSATION_BUSY');
      await sleep(Math.min(remaining, 5 + Math.random() * 15));
    }
  }
  private async extend(lockKey: string, token: string): Promise<void> {
    await this.client
      .eval(EXTEND_SCRIPT, { keys: [lockKey], arguments: [token, String(this.leaseMs)] })
      .catch(() => undefined);
  }
  private async release(lockKey: string, token: string): Promise<void> {
    await this.client.eval(RELEASE_SCRIPT, { keys: [lockKey], arguments: [token] });
  }
}

/** Hides a password in a Redis URL before it goes into an error message. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Exponential reconnect backoff with jitter, capped at 3 s. */
function reconnectDelay(retries: number): number {
  return Math.min(100 * 2 ** retries, 3_000) + Math.floor(Math.random() * 100);
}

/** A client that rejects commands while disconnected and reconnects with backoff. */
function newClient(url: string, connectTimeoutMs: number) {
  return createClient({
    url,
    // Reject commands while disconnected instead of queueing them, so a down Redis fails fast.
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnectDelay },
  });
}

/** Connects a fail-fast client, or throws naming the URL when Redis does not answer in time. */
async function connectClient(url: string, timeoutMs: number): Promise<{ client: RedisClient; lastError: () => Error | undefined }> {
  let lastError: Error | undefined;
  let client: RedisClient;
  try {
    client = newClient(url, timeoutMs);
  } catch (err) {
    throw new Error(`Invalid Redis URL ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  // Without a listener, 'error' events would crash the process; reconnects report through here.
  client.on('error', (err: Error) => {
    lastError = err;
  });
  const connecting = client.connect();
  connecting.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([connecting, timeout]);
    return { client, lastError: () => lastError };
  } catch (err) {
    client.destroy();
    const reason = lastError?.message || (err as Error).message;
    throw new Error(`Cannot connect to Redis at ${redactUrl(url)}: ${reason}`, { cause: lastError ?? err });
  } finally {
    clearTimeout(timer);
  }
}

/** Creates the Redis-backed stores on one connection; throws when Redis is unreachable within ~2 s. */
export async function createRedisStores(url: string, options: StoreOptions = {}): Promise<Stores> {
  const { client, lastError } = await connectClient(url, CONNECT_TIMEOUT_MS);
  const prefix = options.prefix ?? 'wsa';
  const ttl = options.ttlSeconds ?? 7 * DAY;
  const sessions = new RedisSessionStore(client, prefix, ttl);
  const transcripts = new RedisTranscriptStore(client, prefix, ttl);
  const applications = new RedisApplicationStore(client, prefix);
  const turnKey = (id: string, cmid: string) => keyOf(prefix, 'turn', `${id}:${cmid}`);
  const turns: TurnIndex = {
    async get(id, cmid) {
      const raw = await guarded(() => client.get(turnKey(id, cmid)));
      return raw === null ? null : (JSON.parse(raw) as Message[]);
    },
    async set(id, cmid, messages) {
      await guarded(() => client.set(turnKey(id, cmid), JSON.stringify(messages), { expiration: { type: 'EX', value: wholeSeconds(ttl) } }));
    },
  };
  return {
    backend: 'redis',
    sessions,
    transcripts,
    applications,
    commitTurn: (commit) => sequentialCommit({ sessions, transcripts, applications, turns }, commit),
    findTurn: (id, cmid) => turns.get(id, cmid),
    locks: new RedisLockManager(client, prefix, options.lockTimeoutMs ?? 10_000),
    async ping() {
      try {
        await client.ping();
      } catch (err) {
        // The offline error says little; the last socket error says why (e.g. ECONNREFUSED).
        throw new AppError('STORE_UNAVAILABLE', undefined, { cause: client.isReady ? err : (lastError() ?? err) });
      }
    },
    async close() {
      if (client.isOpen) await client.close();
      else client.destroy();
    },
  };
}
