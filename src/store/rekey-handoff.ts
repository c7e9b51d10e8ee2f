import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { handoffFieldContext, SEALED_HANDOFF_FIELDS } from '../handoff/protect-db.js';
import type { RawRecord, SealedKind } from './rekey.js';
import type { RedisClient, WriteFence } from './redis-client.js';
import { SET_IF_SAME } from './redis-scripts.js';

/** The handoff store's files that hold sealed documents (agents.sqlite holds none). */
export const HANDOFF_SQLITE_FILES = ['handoffs.sqlite', 'callbacks.sqlite'] as const;

/** The document kinds with sealed fields ('handoff', 'callback'). */
const DOC_KINDS = Object.keys(SEALED_HANDOFF_FIELDS);
const PAGE = 500;

/** A record id of the `handoffs` sealed kind: `<document kind>:<document id>`. */
const recordId = (kind: string, id: string) => `${kind}:${id}`;

/** Splits a record id back into its document kind and id (kinds hold no colon; ids may). */
function splitRecordId(recId: string): [string, string] {
  const at = recId.indexOf(':');
  return [recId.slice(0, at), recId.slice(at + 1)];
}

/** Rebuilds a handoff or callback document with each sealed field passed through `fix`, under the context protectHandoffDb sealed it with. */
export function handoffShape(doc: Record<string, unknown>, recId: string, fix: (value: unknown, context: string) => unknown): Record<string, unknown> {
  const [kind, id] = splitRecordId(recId);
  const out = { ...doc };
  for (const f of SEALED_HANDOFF_FIELDS[kind] ?? []) if (f in out) out[f] = fix(out[f], handoffFieldContext(kind, id, f));
  return out;
}

/** The `docs` table of one handoff SQLite file, paged by (kind, id); each rewrite is a compare-and-set, since the server may hold the file too. */
function sqliteDocs(db: Database): SealedKind {
  const marks = DOC_KINDS.map(() => '?').join(', ');
  const page = db.prepare<[...string[], number], { kind: string; id: string; raw: string }>(
    `SELECT kind, id, doc AS raw FROM docs WHERE kind IN (${marks}) AND (kind, id) > (?, ?) ORDER BY kind, id LIMIT ?`,
  );
  const one = db.prepare<[string, string], { raw: string }>('SELECT doc AS raw FROM docs WHERE kind = ? AND id = ?');
  const update = db.prepare('UPDATE docs SET doc = ? WHERE kind = ? AND id = ? AND doc = ?');
  return {
    name: 'handoffs',
    async *scan(): AsyncIterable<RawRecord> {
      for (let after = ['', ''], rows: { kind: string; id: string; raw: string }[] = []; ; after = [rows.at(-1)!.kind, rows.at(-1)!.id]) {
        rows = page.all(...DOC_KINDS, after[0]!, after[1]!, PAGE);
        for (const r of rows) yield { id: recordId(r.kind, r.id), raw: r.raw };
        if (rows.length < PAGE) return;
      }
    },
    replace: async (recId, from, to) => update.run(to, ...splitRecordId(recId), from).changes === 1,
    read: async (recId) => one.get(...splitRecordId(recId))?.raw ?? null,
  };
}

/** Opens the handoff store's SQLite files under `dir` that exist, as sealed kinds named `handoffs`. */
export function openHandoffSqlite(dir: string): { kinds: SealedKind[]; close(): void } {
  const dbs = HANDOFF_SQLITE_FILES.map((f) => join(dir, f))
    .filter((path) => existsSync(path))
    .map((path) => {
      const db = new BetterSqlite3(path, { fileMustExist: true });
      // A running server may be writing the same file (WAL): wait for its write lock rather than fail.
      db.pragma('busy_timeout = 5000');
      return db;
    });
  return { kinds: dbs.map(sqliteDocs), close: () => dbs.forEach((db) => db.close()) };
}

/** Handoff and callback documents on Redis (strings `<prefix>:<kind>:<id>`), each rewritten by a compare-and-set that keeps the TTL. */
export function redisHandoffDocs(client: RedisClient, fence: WriteFence, prefix: string): SealedKind {
  const key = (recId: string) => `${prefix}:${recId}`;
  const read = async (recId: string) => (await client.get(key(recId))) ?? null;
  return {
    name: 'handoffs',
    async *scan() {
      for (const kind of DOC_KINDS) {
        const keyPrefix = `${prefix}:${kind}:`;
        for await (const keys of client.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: PAGE, TYPE: 'string' })) {
          for (const k of keys) {
            const recId = recordId(kind, k.slice(keyPrefix.length));
            const raw = await read(recId);
            if (raw !== null) yield { id: recId, raw };
          }
        }
      }
    },
    replace: async (recId, from, to) => Number(await fence.eval(client, SET_IF_SAME, [key(recId)], [from, to])) === 1,
    read,
  };
}
