import { guarded, keyOf, type RedisClient, type WriteFence } from './redis-client.js';
import type { AnalyticsEvent, EventStore, OutboxEntry, OutboxRecord, OutboxStore } from './types.js';

const GUARD = `
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[1]) then
  return redis.error_reply('DEADLINE the client gave up on this write')
end
`;

/**
 * Adds entries the way a turn commit does; shared with COMMIT. Expects `pfx` (hash key prefix), `due` (pending zset key),
 * `now`, and `ob` = {json, id, json, id, …}. An id already present is kept.
 */
export const OUTBOX_ADD_LUA = `
for i = 1, #ob, 2 do
  local h = pfx .. ob[i + 1]
  if redis.call('EXISTS', h) == 0 then
    redis.call('HSET', h, 'entry', ob[i], 'state', 'pending', 'attempts', 0, 'due', now)
    redis.call('ZADD', due, now, ob[i + 1])
  end
end`;

/** KEYS: pending zset. ARGV: deadline, hash prefix, now, json, id, … */
const ADD = `${GUARD}
local pfx, due, now = ARGV[2], KEYS[1], ARGV[3]
local ob = {unpack(ARGV, 4)}
${OUTBOX_ADD_LUA}
return 1`;

/** KEYS: pending zset. ARGV: deadline, hash prefix, now, lease ms, limit, owner. Returns {id, entry, attempts, error}… */
const CLAIM = `${GUARD}
local now = tonumber(ARGV[3])
local untilMs = now + tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
local out = {}
for _, id in ipairs(ids) do
  local h = ARGV[2] .. id
  redis.call('ZADD', KEYS[1], untilMs, id)
  redis.call('HSET', h, 'owner', ARGV[6], 'due', untilMs)
  local v = redis.call('HMGET', h, 'entry', 'attempts', 'error')
  table.insert(out, id)
  table.insert(out, v[1] or '')
  table.insert(out, v[2] or '0')
  table.insert(out, v[3] or '')
end
return out`;

/** KEYS: hash, pending zset, dead zset. ARGV: deadline, owner, id, error, retryAt ('' = dead, delivered when error is ''), now. */
const SETTLE = `${GUARD}
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
if ARGV[4] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
  return 1
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'error', ARGV[4])
redis.call('HDEL', KEYS[1], 'owner')
if ARGV[5] == '' then
  redis.call('HSET', KEYS[1], 'state', 'dead', 'due', ARGV[6])
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[3])
else
  redis.call('HSET', KEYS[1], 'due', ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
end
return 1`;

/** KEYS: hash, pending zset, dead zset. ARGV: deadline, id, now. */
const REPLAY = `${GUARD}
if redis.call('HGET', KEYS[1], 'state') ~= 'dead' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempts', 0, 'due', ARGV[3])
redis.call('HDEL', KEYS[1], 'error', 'owner')
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return 1`;

/** Redis keys of the outbox under a prefix. */
export function outboxKeys(prefix: string) {
  return { hashPrefix: keyOf(prefix, 'outbox', ''), pending: keyOf(prefix, 'outbox-due', 'pending'), dead: keyOf(prefix, 'outbox-dead', 'list') };
}

/** The flat (json, id) arguments for OUTBOX_ADD_LUA. */
export function outboxPairs(entries: OutboxEntry[]): string[] {
  return entries.flatMap((e) => [JSON.stringify(e), e.id]);
}

/** The outbox on Redis: a hash per entry, a pending sorted set by due time (a lease pushes it), a dead sorted set. */
export class RedisOutboxStore implements OutboxStore {
  private readonly k;
  constructor(
    private readonly client: RedisClient,
    private readonly fence: WriteFence,
    prefix: string,
  ) {
    this.k = outboxKeys(prefix);
  }
  private run(script: string, keys: string[], args: string[]) {
    return guarded(() => this.client.eval(script, { keys, arguments: [this.fence.deadline(), ...args] }));
  }
  async add(entries: OutboxEntry[]): Promise<void> {
    if (entries.length) await this.run(ADD, [this.k.pending], [this.k.hashPrefix, String(Date.now()), ...outboxPairs(entries)]);
  }
  async claim(owner: string, leaseMs: number, limit: number, now = Date.now()): Promise<OutboxRecord[]> {
    const flat = (await this.run(CLAIM, [this.k.pending], [this.k.hashPrefix, String(now), String(leaseMs), String(limit), owner])) as string[];
    const out: OutboxRecord[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      if (!flat[i + 1]) continue;
      out.push(record(flat[i + 1]!, 'pending', Number(flat[i + 2]), now + leaseMs, flat[i + 3]));
    }
    return out;
  }
  private settle(id: string, owner: string, error: string, retryAt: string, now: number) {
    return this.run(SETTLE, [this.k.hashPrefix + id, this.k.pending, this.k.dead], [owner, id, error, retryAt, String(now)]);
  }
  async delivered(id: string, owner: string): Promise<boolean> {
    return Number(await this.settle(id, owner, '', '', Date.now())) === 1;
  }
  async failed(id: string, owner: string, error: string, retryAt: number | null, now = Date.now()): Promise<boolean> {
    return Number(await this.settle(id, owner, error || 'failed', retryAt === null ? '' : String(retryAt), now)) === 1;
  }
  async dead(limit = 100): Promise<OutboxRecord[]> {
    const ids = await guarded(() => this.client.zRange(this.k.dead, 0, limit - 1, { REV: true }));
    const found = await Promise.all(ids.map((id) => this.get(id)));
    return found.filter((r): r is OutboxRecord => r !== null);
  }
  async counts(): Promise<{ pending: number; dead: number }> {
    const [pending, dead] = await Promise.all([guarded(() => this.client.zCard(this.k.pending)), guarded(() => this.client.zCard(this.k.dead))]);
    return { pending: Number(pending), dead: Number(dead) };
  }
  async get(id: string): Promise<OutboxRecord | null> {
    const h = (await guarded(() => this.client.hGetAll(this.k.hashPrefix + id))) as Record<string, string>;
    if (!h.entry) return null;
    return record(h.entry, h.state === 'dead' ? 'dead' : 'pending', Number(h.attempts ?? 0), Number(h.due ?? 0), h.error);
  }
  async replay(id: string, now = Date.now()): Promise<boolean> {
    return Number(await this.run(REPLAY, [this.k.hashPrefix + id, this.k.pending, this.k.dead], [id, String(now)])) === 1;
  }
}

function record(entry: string, state: OutboxRecord['state'], attempts: number, dueAt: number, error?: string): OutboxRecord {
  return { ...(JSON.parse(entry) as OutboxEntry), state, attempts, dueAt, ...(error ? { lastError: error } : {}) };
}

// Stream ids are Redis time, events carry the caller's: a margin covers clock skew between instances.
const SKEW_MS = 10 * 60_000;

/** Analytics events on a Redis Stream `<prefix>:events`, capped with MAXLEN ~. */
export class RedisEventStore implements EventStore {
  private readonly key: string;
  constructor(
    private readonly client: RedisClient,
    prefix: string,
    private readonly max: number,
  ) {
    this.key = `${prefix}:events`;
  }
  async append(events: AnalyticsEvent[]): Promise<void> {
    for (const e of events) {
      await guarded(() => this.client.xAdd(this.key, '*', { e: JSON.stringify(e) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.max } }));
    }
  }
  async list(range: { from?: string; to?: string; limit?: number } = {}): Promise<AnalyticsEvent[]> {
    const from = range.from ? Date.parse(range.from) : -Infinity;
    const to = range.to ? Date.parse(range.to) : Infinity;
    const start = Number.isFinite(from) ? String(Math.max(0, from - SKEW_MS)) : '-';
    const end = Number.isFinite(to) ? String(to + SKEW_MS) : '+';
    const limit = range.limit ?? 100_000;
    const out: AnalyticsEvent[] = [];
    let cursor = start;
    for (;;) {
      const page = (await guarded(() => this.client.xRange(this.key, cursor, end, { COUNT: 1000 }))) ?? [];
      for (const m of page) {
        const e = JSON.parse(String(m.message.e)) as AnalyticsEvent;
        const t = Date.parse(e.at);
        if (t >= from && t < to) out.push(e);
        if (out.length >= limit) return out;
      }
      if (page.length < 1000) return out;
      cursor = `(${page.at(-1)!.id}`;
    }
  }
}
