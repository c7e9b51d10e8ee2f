import { createClient } from 'redis';
import { AppError } from '../core/index.js';
import { SharedDeadline } from '../store/redis-deadline.js';
import { RedisLockManager } from '../store/redis-stores.js';
import { PRIORITIES, type HandoffDb, type HandoffQueue, type Priority, type QueueEntry } from './types.js';

// No per-command timeout (node-redis's is an AbortSignal.timeout per command): guarded below bounds every call.
function newClient(url: string) {
  return createClient({ url, disableOfflineQueue: true, commandOptions: { timeout: 0 }, socket: { connectTimeout: 2_000, reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 3_000) } });
}
/** The handoff's Redis client. */
export type HandoffRedis = ReturnType<typeof newClient>;
type Client = HandoffRedis;
const GROUP = 'agents';
const WAITING = 'waiting';

/** Connects a fail-fast client (commands fail while disconnected instead of queueing). */
export async function connectHandoffRedis(url: string): Promise<Client> {
  const client = newClient(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Longest wait for one Redis command: a hung Redis fails the call instead of holding it. */
const COMMAND_TIMEOUT_MS = 2_000;

// One timer bounds every pending command (a timer per command was measurable CPU under load).
const deadline = new SharedDeadline(COMMAND_TIMEOUT_MS, (ms) => `Redis did not answer in ${ms} ms`);

/** Runs Redis work, turning failures and hangs into STORE_UNAVAILABLE (503) with the cause kept. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await deadline.bound(work());
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('STORE_UNAVAILABLE', undefined, { cause: err });
  }
}

/** Handoff documents on Redis: strings `<prefix>:<kind>:<id>`, sorted sets `<prefix>:index:<kind>`, lists. */
export function createRedisHandoffDb(client: Client, prefix: string, owns = false): HandoffDb {
  const key = (kind: string, id: string) => `${prefix}:${kind}:${id}`;
  const locks = new RedisLockManager(client as never, prefix, 10_000);
  return {
    async get<T>(kind: string, id: string) {
      const raw = await guarded(() => client.get(key(kind, id)));
      return raw === null ? null : (JSON.parse(raw) as T);
    },
    async getEach<T>(refs: Array<[string, string]>) {
      const raws = await guarded(() => client.mGet(refs.map(([kind, id]) => key(kind, id))));
      return raws.map((raw) => (raw === null ? null : (JSON.parse(raw) as T)));
    },
    async put(kind, id, doc, ttl) {
      await guarded(() => client.set(key(kind, id), JSON.stringify(doc), ttl ? { expiration: { type: 'EX', value: Math.ceil(ttl) } } : undefined));
    },
    async putNew(kind, id, doc) {
      return (await guarded(() => client.set(key(kind, id), JSON.stringify(doc), { condition: 'NX' }))) !== null;
    },
    async del(kind, id) {
      await guarded(() => client.del(key(kind, id)));
    },
    async index(kind, id, score) {
      await guarded(() => client.zAdd(key('index', kind), { score, value: id }));
    },
    async unindex(kind, id) {
      await guarded(() => client.zRem(key('index', kind), id));
    },
    async range(kind, min = -Infinity) {
      return guarded(() => client.zRangeByScore(key('index', kind), min === -Infinity ? '-inf' : min, '+inf'));
    },
    async incr(kind, id, ttl) {
      const n = await guarded(() => client.incr(key(kind, id)));
      if (ttl && n === 1) await guarded(() => client.expire(key(kind, id), Math.ceil(ttl)));
      return n;
    },
    async push(kind, id, doc) {
      await guarded(() => client.rPush(key(kind, id), JSON.stringify(doc)));
    },
    async list<T>(kind: string, id: string) {
      return (await guarded(() => client.lRange(key(kind, id), 0, -1))).map((s) => JSON.parse(s) as T);
    },
    withLock: (k, fn) => locks.withLock(`handoff-lock:${k}`, fn),
    async close() {
      if (owns && client.isOpen) await client.close();
    },
  };
}

/**
 * The waiting line on Redis Streams, one per priority (`<prefix>:handoffq:<priority>`), consumer group `agents`.
 * An entry is read into the PEL of the consumer `waiting` as soon as it is added; a claim moves it to
 * `agent:<login>` with XCLAIM; the console's heartbeat re-claims it (resetting its idle time); XPENDING with
 * IDLE finds the claims whose console has been gone longer than the grace period.
 */
export function createRedisHandoffQueue(client: Client, prefix: string): HandoffQueue {
  const stream = (p: Priority) => `${prefix}:handoffq:${p}`;
  const where = `${prefix}:handoffq:where`;
  const cmd = (args: string[]) => guarded(() => client.sendCommand(args)) as Promise<unknown>;
  const ready = new Set<Priority>();

  async function ensureGroup(p: Priority): Promise<void> {
    if (ready.has(p)) return;
    try {
      await cmd(['XGROUP', 'CREATE', stream(p), GROUP, '0', 'MKSTREAM']);
    } catch (err) {
      if (!String((err as AppError).cause ?? err).includes('BUSYGROUP')) throw err;
    }
    ready.add(p);
  }

  async function locate(handoffId: string): Promise<{ p: Priority; entry: string } | null> {
    const raw = await guarded(() => client.hGet(where, handoffId));
    if (!raw) return null;
    const [p, entry] = raw.split('|') as [Priority, string];
    return { p, entry };
  }

  async function move(handoffId: string, consumer: string): Promise<void> {
    const at = await locate(handoffId);
    if (at) await cmd(['XCLAIM', stream(at.p), GROUP, consumer, '0', at.entry, 'JUSTID']);
  }

  /** [entry id, consumer, idle ms] of every pending entry of a stream. */
  async function pending(p: Priority, idleMs?: number): Promise<[string, string, number][]> {
    await ensureGroup(p);
    const args = ['XPENDING', stream(p), GROUP, ...(idleMs !== undefined ? ['IDLE', String(Math.floor(idleMs))] : []), '-', '+', '10000'];
    const rows = (await cmd(args)) as [string, string, number, number][];
    return rows.map(([id, consumer, idle]) => [String(id), String(consumer), Number(idle)]);
  }

  async function idsOf(p: Priority): Promise<Map<string, string>> {
    const rows = (await cmd(['XRANGE', stream(p), '-', '+'])) as [string, string[]][];
    const m = new Map<string, string>();
    for (const [id, fields] of rows) {
      const i = fields.indexOf('handoff');
      if (i >= 0) m.set(String(id), String(fields[i + 1]));
    }
    return m;
  }

  return {
    async add(handoffId, priority) {
      if (await locate(handoffId)) return;
      await ensureGroup(priority);
      const entry = String(await cmd(['XADD', stream(priority), '*', 'handoff', handoffId]));
      await guarded(() => client.hSet(where, handoffId, `${priority}|${entry}`));
      // Delivers every new entry of this stream into the PEL of `waiting`, whichever instance added it.
      await cmd(['XREADGROUP', 'GROUP', GROUP, WAITING, 'COUNT', '1000', 'STREAMS', stream(priority), '>']);
    },
    assign: (handoffId, agent) => move(handoffId, `agent:${agent}`),
    unassign: (handoffId) => move(handoffId, WAITING),
    async remove(handoffId) {
      const at = await locate(handoffId);
      if (!at) return;
      await cmd(['XACK', stream(at.p), GROUP, at.entry]);
      await cmd(['XDEL', stream(at.p), at.entry]);
      await guarded(() => client.hDel(where, handoffId));
    },
    async touch(agent, ids) {
      for (const id of ids) {
        const at = await locate(id);
        if (!at) continue;
        const owner = (await pending(at.p)).find(([e]) => e === at.entry)?.[1];
        if (owner === `agent:${agent}`) await cmd(['XCLAIM', stream(at.p), GROUP, owner, '0', at.entry, 'JUSTID']);
      }
    },
    async idleClaims(idleMs) {
      const out: QueueEntry[] = [];
      for (const p of PRIORITIES) {
        const idle = (await pending(p, idleMs)).filter(([, c]) => c.startsWith('agent:'));
        if (!idle.length) continue;
        const ids = await idsOf(p);
        for (const [entry, consumer] of idle) {
          const handoffId = ids.get(entry);
          if (handoffId) out.push({ handoffId, priority: p, agent: consumer.slice('agent:'.length) });
        }
      }
      return out;
    },
    async entries() {
      const out: QueueEntry[] = [];
      for (const p of PRIORITIES) {
        await ensureGroup(p);
        const owners = new Map((await pending(p)).map(([e, c]) => [e, c]));
        for (const [entry, handoffId] of await idsOf(p)) {
          const c = owners.get(entry);
          out.push({ handoffId, priority: p, agent: c?.startsWith('agent:') ? c.slice(6) : null });
        }
      }
      return out;
    },
    async close() {},
  };
}
