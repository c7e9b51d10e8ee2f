import type { Application, Message } from '../core/index.js';
import { AppError } from '../core/index.js';
import { formatRef, withStatus } from './memory-stores.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { protectStores } from './protect.js';
import { connectClient, guarded, keyOf, wholeSeconds, WriteFence, type RedisClient } from './redis-client.js';
import { forgetPrefetched, heldTicketKey, RedisLockManager, takePrefetched } from './redis-lock.js';
import { rateLimitAdapter } from './redis-rate-limit.js';
import { outboxKeys, outboxPairs, RedisEventStore, RedisOutboxStore } from './redis-outbox.js';
import { APPEND, COMMIT, FAIL_ATTEMPT, NEXT_REF, SAVE_APP, SET_SESSION, SET_IF_SAME } from './redis-scripts.js';
import type { ApplicationStore, AttemptLimiter, EventStore, NewMessage, SessionRecord, SessionStore, StoreOptions, Stores, TranscriptStore, TurnCommit } from './types.js';

export { RedisLockManager } from './redis-lock.js';
export type { RedisClient } from './redis-client.js';

const DAY = 86_400;
// Reference counters only matter while their day can still be issued; a margin covers clock skew.
const REF_COUNTER_TTL_SECONDS = 3 * DAY;

/** What every Redis store shares: the client, the write fence, the key prefix and the options. */
interface RedisContext {
  client: RedisClient;
  fence: WriteFence;
  o: ResolvedOptions;
}

const key = (c: RedisContext, kind: string, id: string) => keyOf(c.o.prefix, kind, id);

/** Session store on Redis strings with a TTL refreshed on every write. */
export class RedisSessionStore implements SessionStore {
  constructor(private readonly c: RedisContext) {}
  async get<S>(id: string): Promise<SessionRecord<S> | null> {
    const k = key(this.c, 'session', id);
    // The lock read the session when it served this turn (the same script): no second round trip.
    const prefetched = takePrefetched(k);
    const raw = prefetched !== undefined ? prefetched : await guarded(() => this.c.client.get(k));
    return raw === null ? null : (JSON.parse(raw) as SessionRecord<S>);
  }
  async set<S>(id: string, record: SessionRecord<S>): Promise<void> {
    const args = [JSON.stringify(record), String(wholeSeconds(this.c.o.ttlMs))];
    forgetPrefetched(key(this.c, 'session', id));
    await guarded(() => this.c.fence.eval(this.c.client, SET_SESSION, [key(this.c, 'session', id)], args));
  }
  async delete(id: string): Promise<void> {
    forgetPrefetched(key(this.c, 'session', id));
    await guarded(() => this.c.client.del(key(this.c, 'session', id)));
  }
}

/**
 * Transcript store on a Redis list of JSON messages. A message's seq is its 1-based list position:
 * one RPUSH of all new messages is atomic and returns the new length, so concurrent appenders from
 * any number of processes get gap-free, non-overlapping ranges without a separate counter.
 */
export class RedisTranscriptStore implements TranscriptStore {
  constructor(private readonly c: RedisContext) {}
  async append(id: string, messages: NewMessage[]): Promise<Message[]> {
    if (messages.length === 0) return [];
    const values = messages.map((m) => JSON.stringify(m));
    const args = [String(wholeSeconds(this.c.o.transcriptTtlMs)), ...values];
    const length = await guarded(() => this.c.fence.eval(this.c.client, APPEND, [key(this.c, 'transcript', id)], args));
    const first = Number(length) - messages.length + 1;
    return values.map((raw, i) => toMessage(raw, first + i));
  }
  async list(id: string, after = 0, limit = Infinity): Promise<Message[]> {
    const start = Math.max(0, Math.floor(after));
    const stop = Number.isFinite(limit) ? start + Math.max(0, limit) - 1 : -1;
    if (stop < start && stop !== -1) return [];
    const raws = await guarded(() => this.c.client.lRange(key(this.c, 'transcript', id), start, stop));
    return raws.map((raw, i) => toMessage(raw, start + i + 1));
  }
  async delete(id: string): Promise<void> {
    await guarded(() => this.c.client.del([key(this.c, 'transcript', id), key(this.c, 'turns', id)]));
  }
}

/** Parses a stored message and attaches its position-derived seq (last, so it always wins). */
function toMessage(raw: string, seq: number): Message {
  return { ...(JSON.parse(raw) as NewMessage), seq };
}

/** Seconds an application submitted at `submittedAt` still has to live. */
function appTtl(c: RedisContext, app: Application): string {
  const submitted = Date.parse(app.submittedAt);
  const until = (Number.isFinite(submitted) ? submitted : Date.now()) + c.o.applicationRetentionMs;
  return String(wholeSeconds(until - Date.now()));
}

/** Applications as JSON strings with a retention TTL, a run index and per-day INCR reference counters. */
export class RedisApplicationStore implements ApplicationStore {
  constructor(private readonly c: RedisContext) {}
  async nextRef(day: string): Promise<string> {
    const k = key(this.c, 'ref-counter', day);
    const n = await guarded(() => this.c.client.eval(NEXT_REF, { keys: [k], arguments: [String(REF_COUNTER_TTL_SECONDS)] }));
    return formatRef(day, Number(n));
  }
  async save(app: Application): Promise<Application> {
    const keys = [key(this.c, 'app', app.ref), app.runId ? key(this.c, 'app-run', app.runId) : ''];
    const args = [JSON.stringify(app), appTtl(this.c, app), key(this.c, 'app', '')];
    const kept = await guarded(() => this.c.fence.eval(this.c.client, SAVE_APP, keys, args));
    return JSON.parse(String(kept)) as Application;
  }
  async get(ref: string): Promise<Application | null> {
    const raw = await guarded(() => this.c.client.get(key(this.c, 'app', ref)));
    return raw === null ? null : (JSON.parse(raw) as Application);
  }
  async findByRun(runId: string): Promise<Application | null> {
    const ref = await guarded(() => this.c.client.get(key(this.c, 'app-run', runId)));
    return ref === null ? null : this.get(ref);
  }
  /** Read, change, and write back only when nobody changed it meanwhile (a few tries). */
  async updateStatus(ref: string, status: Application['status'], note?: string): Promise<Application | null> {
    const k = key(this.c, 'app', ref);
    for (let i = 0; i < 5; i++) {
      const raw = await guarded(() => this.c.client.get(k));
      if (raw === null) return null;
      const next = withStatus(JSON.parse(raw) as Application, status, note);
      const ok = await guarded(() => this.c.client.eval(SET_IF_SAME, { keys: [k], arguments: [this.c.fence.deadline(), raw, JSON.stringify(next)] }));
      if (Number(ok) === 1) return next;
    }
    throw new AppError('CONVERSATION_BUSY');
  }
}

/** Failure counters that expire with the lockout. */
export class RedisAttemptLimiter implements AttemptLimiter {
  constructor(private readonly c: RedisContext) {}
  async blocked(id: string): Promise<boolean> {
    const n = await guarded(() => this.c.client.get(key(this.c, 'attempts', id)));
    return Number(n ?? 0) >= this.c.o.attemptsMax;
  }
  async fail(id: string): Promise<void> {
    await guarded(() => this.c.client.eval(FAIL_ATTEMPT, { keys: [key(this.c, 'attempts', id)], arguments: [String(this.c.o.attemptsLockMs)] }));
  }
  async reset(id: string): Promise<void> {
    await guarded(() => this.c.client.del(key(this.c, 'attempts', id)));
  }
}

/** The stored messages of a committed turn, `first:count` in the turns hash. */
async function turnMessages(c: RedisContext, id: string, range: string): Promise<Message[]> {
  const [first, count] = range.split(':').map(Number) as [number, number];
  if (!count) return [];
  const raws = await guarded(() => c.client.lRange(key(c, 'transcript', id), first - 1, first + count - 2));
  return raws.map((raw, i) => toMessage(raw, first + i));
}

/** One Lua script: turn index check, applications (idempotent per run), session, transcript, turn index; then the events. */
async function redisCommit(c: RedisContext, commit: TurnCommit, events: EventStore): Promise<Message[]> {
  const id = commit.conversationId;
  const hook = c.o.faultHook;
  hook?.('applications');
  const values = commit.messages.map((m) => JSON.stringify(m));
  const keys = [key(c, 'session', id), key(c, 'transcript', id), key(c, 'turns', id)];
  forgetPrefetched(keys[0]!);
  const appArgs: string[] = [];
  for (const app of commit.applications) {
    keys.push(key(c, 'app', app.ref), app.runId ? key(c, 'app-run', app.runId) : '');
    appArgs.push(JSON.stringify(app), appTtl(c, app));
  }
  const ob = outboxKeys(c.o.prefix);
  keys.push(ob.pending);
  const outbox = commit.outbox ?? [];
  const args = [
    JSON.stringify(commit.session),
    String(wholeSeconds(c.o.ttlMs)),
    String(wholeSeconds(c.o.transcriptTtlMs)),
    commit.clientMessageId ?? '',
    key(c, 'app', ''),
    String(values.length),
    ...values,
    ...appArgs,
    ...outboxPairs(outbox),
    ob.hashPrefix,
    String(Date.now()),
    String(outbox.length),
    heldTicketKey(id),
  ];
  const [dup, at] = (await guarded(() => c.fence.eval(c.client, COMMIT, keys, args))) as [number, number | string];
  hook?.('committed');
  if (Number(dup) === 1) return turnMessages(c, id, String(at));
  // The events stream is outside the commit script: written right after it, a failure never failing the turn.
  if (commit.events?.length) await events.append(commit.events).catch(() => undefined);
  return values.map((raw, i) => toMessage(raw, Number(at) + i));
}

/** Counts keys of one kind by SCAN (diagnostics only). */
async function countKeys(c: RedisContext, kind: string): Promise<number> {
  let n = 0;
  for await (const keys of c.client.scanIterator({ MATCH: key(c, kind, '*'), COUNT: 500 })) n += keys.length;
  return n;
}

/** Creates the Redis-backed stores on one connection; throws when Redis is unreachable within REDIS_TIMEOUT_MS. */
export async function createRedisStores(url: string, options: StoreOptions & { timeoutMs?: number } = {}): Promise<Stores> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const { client, lastError } = await connectClient(url, timeoutMs);
  const o = resolveOptions(options);
  const fence = new WriteFence(timeoutMs);
  try {
    await fence.sync(client);
  } catch (err) {
    client.destroy();
    throw new Error(`Redis at ${url.replace(/\/\/[^@]*@/, '//***@')} did not answer TIME: ${(err as Error).message}`, { cause: err });
  }
  const c: RedisContext = { client, fence, o };
  const events = new RedisEventStore(client, o.prefix, o.maxEvents);
  // Clocks drift and step: re-measure the offset the write deadlines use.
  const resync = setInterval(() => void fence.sync(client).catch(() => undefined), 60_000);
  resync.unref();
  const stores: Stores = {
    backend: 'redis',
    sessions: new RedisSessionStore(c),
    transcripts: new RedisTranscriptStore(c),
    applications: new RedisApplicationStore(c),
    attempts: new RedisAttemptLimiter(c),
    // A conversation's lock reads its session when it serves the turn: the turn's first read, in the same round trip.
    locks: new RedisLockManager(client, o.prefix, o.lockTimeoutMs, o.lockLeaseMs, fence, (id) => key(c, 'session', id)),
    outbox: new RedisOutboxStore(client, fence, o.prefix),
    events,
    commitTurn: (commit) => redisCommit(c, commit, events),
    async findTurn(id, cmid) {
      const range = await guarded(() => client.hGet(key(c, 'turns', id), cmid));
      return range === null || range === undefined ? null : turnMessages(c, id, String(range));
    },
    // Keys carry their TTL (sessions, transcripts, applications' retention): Redis purges them itself.
    purge: async () => ({ sessions: 0, transcripts: 0, applications: 0 }),
    size: async () => ({ sessions: await countKeys(c, 'session'), transcripts: await countKeys(c, 'transcript'), applications: await countKeys(c, 'app') }),
    rateLimitRedis: rateLimitAdapter(client, o.prefix),
    async ping() {
      try {
        await client.ping();
      } catch (err) {
        // The offline error says little; the last socket error says why (e.g. ECONNREFUSED).
        throw new AppError('STORE_UNAVAILABLE', undefined, { cause: client.isReady ? err : (lastError() ?? err) });
      }
    },
    async close() {
      clearInterval(resync);
      if (client.isOpen) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
  return protectStores(stores, options.cipher);
}
