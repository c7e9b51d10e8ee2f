import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { Application, Message } from '../core/index.js';
import { formatRef, MemoryLockManager, startSweeper, withStatus } from './memory-stores.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { protectStores } from './protect.js';
import { SqliteEventStore, SqliteOutboxStore } from './sqlite-outbox.js';
import { createGroupCommit } from './sqlite-group-commit.js';
import { migrate } from './sqlite-schema.js';
import type { ApplicationStore, AttemptLimiter, NewMessage, PurgeReport, SessionRecord, SessionStore, StoreOptions, Stores, TranscriptStore, TurnCommit } from './types.js';

/** Where the SQLite file lives. */
export interface SqliteStoreOptions extends StoreOptions {
  /** DATA_DIR: created when missing. */
  dataDir: string;
  /** File name inside dataDir; default `assistant.sqlite`. */
  file?: string;
}

/** Every statement the stores run, prepared once. */
function prepare(db: Database) {
  return {
    getSession: db.prepare<[string, number], { record: string }>('SELECT record FROM sessions WHERE id = ? AND expires_at > ?'),
    setSession: db.prepare('INSERT INTO sessions (id, record, expires_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at'),
    delSession: db.prepare('DELETE FROM sessions WHERE id = ?'),
    getTranscript: db.prepare<[string], { last_seq: number; expires_at: number }>('SELECT last_seq, expires_at FROM transcripts WHERE id = ?'),
    setTranscript: db.prepare('INSERT INTO transcripts (id, last_seq, expires_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_seq = excluded.last_seq, expires_at = excluded.expires_at'),
    delTranscript: db.prepare('DELETE FROM transcripts WHERE id = ?'),
    delMessages: db.prepare('DELETE FROM messages WHERE conversation_id = ?'),
    delTurns: db.prepare('DELETE FROM turns WHERE conversation_id = ?'),
    addMessage: db.prepare('INSERT INTO messages (conversation_id, seq, body) VALUES (?, ?, ?)'),
    listMessages: db.prepare<[string, number, number, number], { seq: number; body: string }>(
      'SELECT m.seq, m.body FROM messages m JOIN transcripts t ON t.id = m.conversation_id WHERE m.conversation_id = ? AND m.seq > ? AND t.expires_at > ? ORDER BY m.seq LIMIT ?',
    ),
    rangeMessages: db.prepare<[string, number, number], { seq: number; body: string }>('SELECT seq, body FROM messages WHERE conversation_id = ? AND seq >= ? AND seq < ? ORDER BY seq'),
    getTurn: db.prepare<[string, string, number], { first_seq: number; count: number }>('SELECT first_seq, count FROM turns WHERE conversation_id = ? AND client_message_id = ? AND expires_at > ?'),
    setTurn: db.prepare('INSERT OR REPLACE INTO turns (conversation_id, client_message_id, first_seq, count, expires_at) VALUES (?, ?, ?, ?, ?)'),
    nextRef: db.prepare<[string], { n: number }>('INSERT INTO ref_counters (day, n) VALUES (?, 1) ON CONFLICT(day) DO UPDATE SET n = n + 1 RETURNING n'),
    getApp: db.prepare<[string, number], { body: string }>('SELECT body FROM applications WHERE ref = ? AND expires_at > ?'),
    getAppByRun: db.prepare<[string, number], { body: string }>('SELECT body FROM applications WHERE run_id = ? AND expires_at > ?'),
    setApp: db.prepare('INSERT INTO applications (ref, run_id, body, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(ref) DO UPDATE SET run_id = excluded.run_id, body = excluded.body, expires_at = excluded.expires_at'),
    updateApp: db.prepare('UPDATE applications SET body = ? WHERE ref = ?'),
    getAttempts: db.prepare<[string, number], { failures: number }>('SELECT failures FROM attempts WHERE key = ? AND expires_at > ?'),
    failAttempt: db.prepare(
      'INSERT INTO attempts (key, failures, expires_at) VALUES (@key, 1, @expires) ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN expires_at <= @now THEN 1 ELSE failures + 1 END, expires_at = @expires',
    ),
    delAttempts: db.prepare('DELETE FROM attempts WHERE key = ?'),
  };
}
type Statements = ReturnType<typeof prepare>;

/**
 * The deadline of a record kept `ttlMs` from `now`, rounded up to a step of 1% of the TTL (a minute at most). A
 * conversation's turns within one step write the same deadline, so the expiry indexes are not rewritten on every
 * turn (fewer pages per commit); a record lives at least its TTL and at most 1% longer.
 */
export function expiry(now: number, ttlMs: number): number {
  const step = Math.max(1, Math.min(60_000, Math.floor(ttlMs / 100)));
  return Math.ceil((now + ttlMs) / step) * step;
}

/** Prepared statements and the write helpers that commits and single calls share. */
class SqliteData {
  constructor(
    readonly db: Database,
    readonly o: ResolvedOptions,
  ) {
    this.q = prepare(db);
    this.outbox = new SqliteOutboxStore(db);
    this.events = new SqliteEventStore(db, o.maxEvents);
  }
  readonly outbox: SqliteOutboxStore;
  readonly events: SqliteEventStore;
  private readonly q: Statements;

  getSession(id: string): string | null {
    return this.q.getSession.get(id, Date.now())?.record ?? null;
  }
  setSession(id: string, json: string): void {
    this.q.setSession.run(id, json, expiry(Date.now(), this.o.ttlMs));
  }
  deleteSession(id: string): void {
    this.q.delSession.run(id);
  }
  /** Appends in the caller's transaction; an expired transcript starts again from 1. */
  append(id: string, messages: NewMessage[]): Message[] {
    const now = Date.now();
    const t = this.q.getTranscript.get(id);
    let last = t?.last_seq ?? 0;
    if (t && t.expires_at <= now) {
      this.deleteTranscript(id);
      last = 0;
    }
    const stored = messages.map((m, i) => {
      const body = JSON.stringify(m);
      this.q.addMessage.run(id, last + i + 1, body);
      return { ...(JSON.parse(body) as NewMessage), seq: last + i + 1 };
    });
    this.q.setTranscript.run(id, last + messages.length, expiry(now, this.o.transcriptTtlMs));
    return stored;
  }
  list(id: string, after: number, limit: number): Message[] {
    return this.q.listMessages.all(id, after, Date.now(), limit).map(toMessage);
  }
  deleteTranscript(id: string): void {
    this.q.delMessages.run(id);
    this.q.delTranscript.run(id);
    this.q.delTurns.run(id);
  }
  findTurn(id: string, cmid: string): Message[] | null {
    const t = this.q.getTurn.get(id, cmid, Date.now());
    return t ? this.q.rangeMessages.all(id, t.first_seq, t.first_seq + t.count).map(toMessage) : null;
  }
  setTurn(id: string, cmid: string, stored: Message[]): void {
    this.q.setTurn.run(id, cmid, stored[0]?.seq ?? 0, stored.length, expiry(Date.now(), this.o.transcriptTtlMs));
  }
  nextRef(day: string): number {
    return this.q.nextRef.get(day)!.n;
  }
  getApplication(ref: string): Application | null {
    const row = this.q.getApp.get(ref, Date.now());
    return row ? (JSON.parse(row.body) as Application) : null;
  }
  findByRun(runId: string): Application | null {
    const row = this.q.getAppByRun.get(runId, Date.now());
    return row ? (JSON.parse(row.body) as Application) : null;
  }
  /** Saves in the caller's transaction; an application of an already-saved run is not written again. */
  saveApplication(app: Application): Application {
    const kept = app.runId ? this.findByRun(app.runId) : null;
    if (kept) return kept;
    const submitted = Date.parse(app.submittedAt);
    const body = JSON.stringify(app);
    this.q.setApp.run(app.ref, app.runId ?? null, body, (Number.isFinite(submitted) ? submitted : Date.now()) + this.o.applicationRetentionMs);
    return JSON.parse(body) as Application;
  }
  /** Rewrites the status of a stored application in the caller's transaction, keeping its retention. */
  updateStatus(ref: string, status: Application['status'], note?: string): Application | null {
    const app = this.getApplication(ref);
    if (!app) return null;
    const next = withStatus(app, status, note);
    this.q.updateApp.run(JSON.stringify(next), ref);
    return next;
  }
  failures(key: string): number {
    return this.q.getAttempts.get(key, Date.now())?.failures ?? 0;
  }
  fail(key: string): void {
    const now = Date.now();
    this.q.failAttempt.run({ key, now, expires: now + this.o.attemptsLockMs });
  }
  resetAttempts(key: string): void {
    this.q.delAttempts.run(key);
  }
  /** Deletes everything past its deadline. */
  purge(now: number): PurgeReport {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM messages WHERE conversation_id IN (SELECT id FROM transcripts WHERE expires_at <= ?)').run(now);
      const transcripts = this.db.prepare('DELETE FROM transcripts WHERE expires_at <= ?').run(now).changes;
      this.db.prepare('DELETE FROM turns WHERE expires_at <= ?').run(now);
      const sessions = this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
      const applications = this.db.prepare('DELETE FROM applications WHERE expires_at <= ?').run(now).changes;
      this.db.prepare('DELETE FROM attempts WHERE expires_at <= ?').run(now);
      return { sessions, transcripts, applications };
    })();
  }
}

function toMessage(row: { seq: number; body: string }): Message {
  return { ...(JSON.parse(row.body) as NewMessage), seq: row.seq };
}

/** Session store on the `sessions` table. */
export class SqliteSessionStore implements SessionStore {
  constructor(private readonly d: SqliteData) {}
  async get<S>(id: string): Promise<SessionRecord<S> | null> {
    const raw = this.d.getSession(id);
    return raw ? (JSON.parse(raw) as SessionRecord<S>) : null;
  }
  async set<S>(id: string, record: SessionRecord<S>): Promise<void> {
    this.d.setSession(id, JSON.stringify(record));
  }
  async delete(id: string): Promise<void> {
    this.d.deleteSession(id);
  }
}

/** Transcript store on `transcripts` (last seq, expiry) and `messages`. */
export class SqliteTranscriptStore implements TranscriptStore {
  constructor(private readonly d: SqliteData) {}
  async append(id: string, messages: NewMessage[]): Promise<Message[]> {
    return this.d.db.transaction(() => this.d.append(id, messages))();
  }
  async list(id: string, after = 0, limit = -1): Promise<Message[]> {
    return this.d.list(id, Math.max(0, Math.floor(after)), Number.isFinite(limit) ? limit : -1);
  }
  async delete(id: string): Promise<void> {
    this.d.db.transaction(() => this.d.deleteTranscript(id))();
  }
}

/** Applications with a run index and durable per-day counters. */
export class SqliteApplicationStore implements ApplicationStore {
  constructor(private readonly d: SqliteData) {}
  async nextRef(day: string): Promise<string> {
    return formatRef(day, this.d.nextRef(day));
  }
  async save(app: Application): Promise<Application> {
    return this.d.db.transaction(() => this.d.saveApplication(app))();
  }
  async get(ref: string): Promise<Application | null> {
    return this.d.getApplication(ref);
  }
  async findByRun(runId: string): Promise<Application | null> {
    return this.d.findByRun(runId);
  }
  async updateStatus(ref: string, status: Application['status'], note?: string): Promise<Application | null> {
    return this.d.db.transaction(() => this.d.updateStatus(ref, status, note)).immediate();
  }
}

/** Failed attempts in the `attempts` table. */
export class SqliteAttemptLimiter implements AttemptLimiter {
  constructor(private readonly d: SqliteData) {}
  async blocked(key: string): Promise<boolean> {
    return this.d.failures(key) >= this.d.o.attemptsMax;
  }
  async fail(key: string): Promise<void> {
    this.d.fail(key);
  }
  async reset(key: string): Promise<void> {
    this.d.resetAttempts(key);
  }
}

/** A turn's writes, inside the group commit's savepoint: turn index check, applications, session, transcript, turn index, events. */
function writeTurn(d: SqliteData, c: TurnCommit): Message[] {
  const hook = d.o.faultHook;
  if (c.clientMessageId) {
    const done = d.findTurn(c.conversationId, c.clientMessageId);
    if (done) return done;
  }
  hook?.('applications');
  for (const app of c.applications) d.saveApplication(app);
  if (c.outbox?.length) d.outbox.put(c.outbox);
  hook?.('session');
  d.setSession(c.conversationId, JSON.stringify(c.session));
  hook?.('transcript');
  const added = d.append(c.conversationId, c.messages);
  hook?.('turn');
  if (c.clientMessageId) d.setTurn(c.conversationId, c.clientMessageId, added);
  if (c.events?.length) d.events.put(c.events);
  return added;
}

/**
 * Opens (creating and migrating) the SQLite file in WAL mode, locked to this process: the conversation locks
 * are in-process, so a second instance on the same DATA_DIR would break them. It fails at start instead.
 */
export function openDatabase(path: string): Database {
  const db = new BetterSqlite3(path);
  try {
    db.pragma('busy_timeout = 200');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // The first write takes the exclusive lock, held until close.
    db.exec('BEGIN IMMEDIATE; COMMIT');
  } catch (err) {
    db.close();
    const busy = (err as { code?: string }).code?.startsWith('SQLITE_BUSY');
    throw new Error(busy ? `${path} is in use by another process: SQLite serves one instance (use REDIS_URL for several)` : `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // A page cache that holds the live conversations (the default 2 MB does not), and checkpoints every 40 MB of WAL
  // instead of 4 MB: the hot pages (sessions, expiry indexes) are rewritten many times between two checkpoints.
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  migrate(db);
  return db;
}

/** Creates the SQLite stores (the embedded default): one file under `dataDir`, for one process. */
export function createSqliteStores(options: SqliteStoreOptions): Stores {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const path = join(options.dataDir, options.file ?? 'assistant.sqlite');
  const db = openDatabase(path);
  // Transcripts and (encrypted) applications: readable by the service's user only; the WAL inherits the mode.
  chmodSync(path, 0o600);
  const o = resolveOptions(options);
  const d = new SqliteData(db, o);
  const stop = startSweeper(o.sweepIntervalMs, () => d.purge(Date.now()));
  const group = createGroupCommit(db, o.faultHook ? () => o.faultHook!('committed') : undefined);
  const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE expires_at > ?`).get(Date.now()) as { n: number }).n;
  const stores: Stores = {
    backend: 'sqlite',
    sessions: new SqliteSessionStore(d),
    transcripts: new SqliteTranscriptStore(d),
    applications: new SqliteApplicationStore(d),
    attempts: new SqliteAttemptLimiter(d),
    // One process owns the file, so an in-process FIFO lock is enough.
    locks: new MemoryLockManager(o.lockTimeoutMs),
    outbox: d.outbox,
    events: d.events,
    commitTurn: (commit) => group.run(() => writeTurn(d, commit)),
    findTurn: async (id, cmid) => d.findTurn(id, cmid),
    purge: async (now = new Date()) => d.purge(now.getTime()),
    size: async () => ({ sessions: count('sessions'), transcripts: count('transcripts'), applications: count('applications') }),
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      stop();
      if (!db.open) return;
      group.flush();
      db.close();
    },
  };
  return protectStores(stores, options.cipher);
}
