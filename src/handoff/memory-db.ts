import type { HandoffDb } from './types.js';

/** Runs work for one key at a time inside this process. */
export function memoryLock(): HandoffDb['withLock'] {
  const tails = new Map<string, Promise<unknown>>();
  return async (key, fn) => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** The handoff documents in this process's memory (tests, the terminal chat). */
export function createMemoryHandoffDb(): HandoffDb {
  const docs = new Map<string, { json: string; expires?: number }>();
  const indexes = new Map<string, Map<string, number>>();
  const lists = new Map<string, string[]>();
  const k = (kind: string, id: string) => `${kind}:${id}`;
  const live = (key: string) => {
    const d = docs.get(key);
    if (d?.expires && d.expires < Date.now()) docs.delete(key);
    return docs.get(key);
  };
  return {
    async get<T>(kind: string, id: string) {
      const d = live(k(kind, id));
      return d ? (JSON.parse(d.json) as T) : null;
    },
    async put(kind, id, doc, ttl) {
      docs.set(k(kind, id), { json: JSON.stringify(doc), ...(ttl ? { expires: Date.now() + ttl * 1000 } : {}) });
    },
    async putNew(kind, id, doc) {
      if (live(k(kind, id))) return false;
      docs.set(k(kind, id), { json: JSON.stringify(doc) });
      return true;
    },
    async del(kind, id) {
      docs.delete(k(kind, id));
    },
    async index(kind, id, score) {
      if (!indexes.has(kind)) indexes.set(kind, new Map());
      indexes.get(kind)!.set(id, score);
    },
    async unindex(kind, id) {
      indexes.get(kind)?.delete(id);
    },
    async range(kind, min = -Infinity) {
      return [...(indexes.get(kind) ?? new Map<string, number>())].filter(([, s]) => s >= min).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
    },
    async incr(kind, id) {
      const key = k(kind, id);
      const n = Number(live(key)?.json ?? 0) + 1;
      docs.set(key, { json: String(n) });
      return n;
    },
    async push(kind, id, doc) {
      const key = k(kind, id);
      if (!lists.has(key)) lists.set(key, []);
      lists.get(key)!.push(JSON.stringify(doc));
    },
    async list<T>(kind: string, id: string) {
      return (lists.get(k(kind, id)) ?? []).map((s) => JSON.parse(s) as T);
    },
    withLock: memoryLock(),
    async close() {},
  };
}
