import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { isSealed, sealedKeyId, type FieldCipher } from '../privacy/cipher.js';
import { answersContext, mobileContext, sessionContext, SEALED_FIELD } from '../privacy/seal.js';
import { outboxContext } from './protect.js';
import { handoffShape, openHandoffSqlite, redisHandoffDocs } from './rekey-handoff.js';
import { connectClient, keyOf, WriteFence, type RedisClient } from './redis-client.js';
import { HSET_IF_SAME, SET_IF_SAME } from './redis-scripts.js';
import { openDatabase } from './sqlite-stores.js';

/** The kinds of stored records that hold sealed values (transcripts and events are masked, not sealed); `handoffs` are the handoff store's handoff and callback documents. */
export type SealedKindName = 'sessions' | 'applications' | 'outbox' | 'handoffs';

/** One stored record as the backend keeps it. */
export interface RawRecord {
  id: string;
  raw: string;
}

/** Raw access to one kind of sealed record, below the sealing layer of protectStores. */
export interface SealedKind {
  readonly name: SealedKindName;
  /** Every stored record, expired or not (an expired one still holds ciphertext until purged). */
  scan(): AsyncIterable<RawRecord>;
  /** Writes `to` only while the record still holds `from`; false when it was rewritten or deleted meanwhile. */
  replace(id: string, from: string, to: string): Promise<boolean>;
  /** The record's raw text now, null when it is gone. */
  read(id: string): Promise<string | null>;
}

/** A backend opened for re-encryption: its sealed kinds, and how to let go of it. */
export interface RekeyBackend {
  readonly backend: 'sqlite' | 'redis';
  readonly kinds: SealedKind[];
  close(): Promise<void>;
}

/** Counts of one kind; `reencrypted` is what a dry run would re-encrypt. */
export interface KindReport {
  examined: number;
  reencrypted: number;
  /** Sealed under the current key, or rewritten/deleted by the server meanwhile: nothing under an old key is left. */
  current: number;
  /** Sealed under a key no configured key opens (or damaged): left as it was. */
  unreadable: number;
  /** Holding no sealed value at all (written before encryption): left as it was. */
  plain: number;
  /** Still under an old key after every compare-and-set lost to a concurrent writer. */
  busy: number;
  unreadableIds: string[];
}

/** What one run did, per kind. */
export type RekeyReport = Record<SealedKindName, KindReport>;

type Outcome = 'reencrypted' | 'current' | 'unreadable' | 'plain' | 'busy';
type FieldState = 'current' | 'stale' | 'plain';
type Fix = (value: unknown, context: string) => unknown;

const COMPARE_AND_SET_TRIES = 5;
const PAGE = 500;

/** Rebuilds a parsed record with every sealed field passed through `fix`, per kind (the contexts protectStores seals with). */
const SHAPES: Record<SealedKindName, (rec: Record<string, unknown>, id: string, fix: Fix) => Record<string, unknown>> = {
  sessions: (r, id, fix) => ({ ...r, state: fix(r.state, sessionContext(id)) }),
  applications: (a, _id, fix) => {
    const ref = String(a.ref);
    const answers = a.answers as Record<string, unknown> | undefined;
    const sealedAnswers = answers && SEALED_FIELD in answers ? { ...answers, [SEALED_FIELD]: fix(answers[SEALED_FIELD], answersContext(ref)) } : answers;
    return { ...a, answers: sealedAnswers, mobile: fix(a.mobile, mobileContext(ref)) };
  },
  outbox: (e, _id, fix) => {
    const payload = e.payload as Record<string, unknown> | undefined;
    return payload && SEALED_FIELD in payload ? { ...e, payload: { ...payload, [SEALED_FIELD]: fix(payload[SEALED_FIELD], outboxContext(String(e.id))) } } : e;
  },
  handoffs: handoffShape,
};

// A handoff without a callback or raw values legitimately holds nothing to seal: that is current, not pre-encryption.
const NOTHING_SEALED_IS_CURRENT = new Set<SealedKindName>(['handoffs']);

/** Re-seals a record's fields sealed under another key (the key id decides; current ones are not decrypted); throws when one does not open. */
export function resealRecord(kind: SealedKindName, id: string, raw: string, cipher: FieldCipher): { state: FieldState; next?: string } {
  const states = new Set<FieldState>();
  const fix: Fix = (value, context) => {
    if (!isSealed(value)) return value;
    if (sealedKeyId(value) === cipher.keyId) return states.add('current'), value;
    states.add('stale');
    return cipher.seal(cipher.open(value, context), context);
  };
  const next = SHAPES[kind](JSON.parse(raw) as Record<string, unknown>, id, fix);
  if (states.has('stale')) return { state: 'stale', next: JSON.stringify(next) };
  return { state: states.has('current') || NOTHING_SEALED_IS_CURRENT.has(kind) ? 'current' : 'plain' };
}

/** Re-encrypts one record, re-reading it when a concurrent write won the compare-and-set. */
async function rekeyRecord(kind: SealedKind, id: string, raw: string, cipher: FieldCipher, dryRun: boolean): Promise<Outcome> {
  for (let i = 0; i < COMPARE_AND_SET_TRIES; i++) {
    let r: ReturnType<typeof resealRecord>;
    try {
      r = resealRecord(kind.name, id, raw, cipher);
    } catch {
      return 'unreadable';
    }
    if (r.state !== 'stale') return r.state;
    if (dryRun || (await kind.replace(id, raw, r.next!))) return 'reencrypted';
    const now = await kind.read(id);
    if (now === null) return 'current';
    raw = now;
  }
  return 'busy';
}

const emptyReport = (): KindReport => ({ examined: 0, reencrypted: 0, current: 0, unreadable: 0, plain: 0, busy: 0, unreadableIds: [] });

/** Walks one kind and counts what happened to each record. */
async function rekeyKind(kind: SealedKind, cipher: FieldCipher, dryRun: boolean): Promise<KindReport> {
  const r = emptyReport();
  for await (const { id, raw } of kind.scan()) {
    r.examined++;
    const outcome = await rekeyRecord(kind, id, raw, cipher, dryRun);
    r[outcome]++;
    if (outcome === 'unreadable') r.unreadableIds.push(id);
  }
  return r;
}

/** Re-seals every stored value sealed under a key other than `cipher`'s current one; `dryRun` counts without writing. */
export async function rekeyStores(backend: RekeyBackend, cipher: FieldCipher, opts: { dryRun?: boolean } = {}): Promise<RekeyReport> {
  const report: RekeyReport = { sessions: emptyReport(), applications: emptyReport(), outbox: emptyReport(), handoffs: emptyReport() };
  // Several sources may share a name (handoffs.sqlite and callbacks.sqlite): their counts add up.
  for (const kind of backend.kinds) {
    const r = await rekeyKind(kind, cipher, opts.dryRun ?? false);
    const into = report[kind.name];
    for (const k of ['examined', 'reencrypted', 'current', 'unreadable', 'plain', 'busy'] as const) into[k] += r[k];
    into.unreadableIds.push(...r.unreadableIds);
  }
  return report;
}

/** One SQLite table's sealed column, paged by primary key (the file is this process's alone: no concurrent writer). */
function sqliteKind(db: Database, name: SealedKindName, table: string, idCol: string, col: string): SealedKind {
  const page = db.prepare<[string, number], RawRecord>(`SELECT ${idCol} AS id, ${col} AS raw FROM ${table} WHERE ${idCol} > ? ORDER BY ${idCol} LIMIT ?`);
  const one = db.prepare<[string], { raw: string }>(`SELECT ${col} AS raw FROM ${table} WHERE ${idCol} = ?`);
  const update = db.prepare(`UPDATE ${table} SET ${col} = ? WHERE ${idCol} = ? AND ${col} = ?`);
  return {
    name,
    async *scan() {
      for (let after = '', rows: RawRecord[] = []; ; after = rows.at(-1)!.id) {
        rows = page.all(after, PAGE);
        yield* rows;
        if (rows.length < PAGE) return;
      }
    },
    replace: async (id, from, to) => update.run(to, id, from).changes === 1,
    read: async (id) => one.get(id)?.raw ?? null,
  };
}

/**
 * Opens the embedded SQLite files for re-encryption: the conversation store's under `dataDir` (null: skipped; refused, saying to
 * stop the server, while one holds it) and the handoff store's under `handoffDir`; null when none of them exists.
 */
export function openSqliteRekey(dataDir: string | null, handoffDir?: string, file = 'assistant.sqlite'): RekeyBackend | null {
  const handoff = handoffDir === undefined ? { kinds: [], close: () => undefined } : openHandoffSqlite(handoffDir);
  const path = dataDir === null ? null : join(dataDir, file);
  if (path === null || !existsSync(path)) return handoff.kinds.length ? { backend: 'sqlite', kinds: handoff.kinds, close: async () => handoff.close() } : null;
  let db: Database;
  try {
    db = openDatabase(path);
  } catch (err) {
    handoff.close();
    const busy = ((err as Error).cause as { code?: string } | undefined)?.code?.startsWith('SQLITE_BUSY');
    if (!busy) throw err;
    throw new Error(`${path} is held by a running server (embedded SQLite allows one process): stop the server, run data rekey, then start it again`, { cause: err });
  }
  const kinds = [sqliteKind(db, 'sessions', 'sessions', 'id', 'record'), sqliteKind(db, 'applications', 'applications', 'ref', 'body'), sqliteKind(db, 'outbox', 'outbox', 'id', 'entry'), ...handoff.kinds];
  return { backend: 'sqlite', kinds, close: async () => void (db.close(), handoff.close()) };
}

/** Keys under `<prefix>:<kind>:`, a SCAN page at a time. */
async function* scanIds(client: RedisClient, keyPrefix: string): AsyncIterable<string[]> {
  for await (const keys of client.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: PAGE })) yield keys.map((k) => k.slice(keyPrefix.length));
}

/**
 * Redis records under `keyPrefix`, each re-sealed with a compare-and-set on the old text that keeps the TTL: whole
 * strings (sessions, applications), or with `field` one field of a hash (an outbox entry's `entry`).
 */
function redisKind(client: RedisClient, fence: WriteFence, name: SealedKindName, keyPrefix: string, field?: string): SealedKind {
  const read = async (id: string) => (await (field ? client.hGet(keyPrefix + id, field) : client.get(keyPrefix + id))) ?? null;
  return {
    name,
    async *scan() {
      for await (const ids of scanIds(client, keyPrefix)) {
        for (const id of ids) {
          const raw = await read(id);
          if (raw !== null) yield { id, raw };
        }
      }
    },
    replace: async (id, from, to) =>
      Number(await (field ? fence.eval(client, HSET_IF_SAME, [keyPrefix + id], [field, from, to]) : fence.eval(client, SET_IF_SAME, [keyPrefix + id], [from, to]))) === 1,
    read,
  };
}

/** Connects to Redis for re-encryption; safe beside running servers (every rewrite is a compare-and-set). */
export async function openRedisRekey(url: string, prefix: string, timeoutMs = 2_000): Promise<RekeyBackend> {
  const { client } = await connectClient(url, timeoutMs);
  const fence = new WriteFence(timeoutMs);
  await fence.sync(client);
  const kinds = [
    redisKind(client, fence, 'sessions', keyOf(prefix, 'session', '')),
    redisKind(client, fence, 'applications', keyOf(prefix, 'app', '')),
    redisKind(client, fence, 'outbox', keyOf(prefix, 'outbox', ''), 'entry'),
    redisHandoffDocs(client, fence, prefix),
  ];
  return { backend: 'redis', kinds, close: async () => void (await client.close().catch(() => client.destroy())) };
}

/** The report as printed lines: counts per kind, then the ids of unreadable records (ids only, never content). */
export function formatRekeyReport(report: RekeyReport, dryRun: boolean): string[] {
  const lines = dryRun ? ['dry run: nothing written ("re-encrypted" counts what would be)'] : [];
  for (const [name, r] of Object.entries(report)) {
    const extra = [r.plain ? `, not sealed ${r.plain}` : '', r.busy ? `, still changing ${r.busy} (run again)` : ''].join('');
    lines.push(`${name}: examined ${r.examined}, re-encrypted ${r.reencrypted}, already current ${r.current}, unreadable ${r.unreadable}${extra}`);
  }
  for (const [name, r] of Object.entries(report)) if (r.unreadableIds.length) lines.push(`unreadable ${name}: ${r.unreadableIds.join(', ')}`);
  return lines;
}
