import type { Database } from 'better-sqlite3';
import type { AnalyticsEvent, EventStore, OutboxEntry, OutboxRecord, OutboxStore } from './types.js';

interface Row {
  id: string;
  entry: string;
  state: 'pending' | 'dead';
  attempts: number;
  due_at: number;
  last_error: string | null;
}

function toRecord(r: Row): OutboxRecord {
  return { ...(JSON.parse(r.entry) as OutboxEntry), state: r.state, attempts: r.attempts, dueAt: r.due_at, ...(r.last_error ? { lastError: r.last_error } : {}) };
}

/** The outbox on the `outbox` table; a lease is `owner` plus `due_at` pushed past the lease. */
export class SqliteOutboxStore implements OutboxStore {
  private readonly q;
  constructor(private readonly db: Database) {
    this.q = {
      add: db.prepare('INSERT OR IGNORE INTO outbox (id, entry, state, attempts, due_at) VALUES (?, ?, \'pending\', 0, ?)'),
      due: db.prepare<[number, number], Row>("SELECT * FROM outbox WHERE state = 'pending' AND due_at <= ? ORDER BY due_at LIMIT ?"),
      lease: db.prepare('UPDATE outbox SET owner = ?, due_at = ? WHERE id = ?'),
      delivered: db.prepare("DELETE FROM outbox WHERE id = ? AND owner = ? AND state = 'pending'"),
      retry: db.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, due_at = ?, owner = NULL WHERE id = ? AND owner = ? AND state = 'pending'"),
      die: db.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, due_at = ?, owner = NULL, state = 'dead' WHERE id = ? AND owner = ? AND state = 'pending'"),
      dead: db.prepare<[number], Row>("SELECT * FROM outbox WHERE state = 'dead' ORDER BY due_at DESC LIMIT ?"),
      counts: db.prepare<[], { state: string; n: number }>('SELECT state, count(*) AS n FROM outbox GROUP BY state'),
      get: db.prepare<[string], Row>('SELECT * FROM outbox WHERE id = ?'),
      replay: db.prepare("UPDATE outbox SET state = 'pending', attempts = 0, last_error = NULL, due_at = ?, owner = NULL WHERE id = ? AND state = 'dead'"),
    };
  }
  /** Adds in the caller's transaction (turn commits). */
  put(entries: OutboxEntry[], now = Date.now()): void {
    for (const e of entries) this.q.add.run(e.id, JSON.stringify(e), now);
  }
  async add(entries: OutboxEntry[]): Promise<void> {
    this.db.transaction(() => this.put(entries))();
  }
  async claim(owner: string, leaseMs: number, limit: number, now = Date.now()): Promise<OutboxRecord[]> {
    return this.db.transaction(() => {
      const rows = this.q.due.all(now, limit);
      for (const r of rows) this.q.lease.run(owner, now + leaseMs, r.id);
      return rows.map((r) => ({ ...toRecord(r), dueAt: now + leaseMs }));
    }).immediate();
  }
  async delivered(id: string, owner: string): Promise<boolean> {
    return this.q.delivered.run(id, owner).changes === 1;
  }
  async failed(id: string, owner: string, error: string, retryAt: number | null, now = Date.now()): Promise<boolean> {
    const r = retryAt === null ? this.q.die.run(error, now, id, owner) : this.q.retry.run(error, retryAt, id, owner);
    return r.changes === 1;
  }
  async dead(limit = 100): Promise<OutboxRecord[]> {
    return this.q.dead.all(limit).map(toRecord);
  }
  async counts(): Promise<{ pending: number; dead: number }> {
    const by = Object.fromEntries(this.q.counts.all().map((r) => [r.state, r.n]));
    return { pending: by.pending ?? 0, dead: by.dead ?? 0 };
  }
  async get(id: string): Promise<OutboxRecord | null> {
    const r = this.q.get.get(id);
    return r ? toRecord(r) : null;
  }
  async replay(id: string, now = Date.now()): Promise<boolean> {
    return this.q.replay.run(now, id).changes === 1;
  }
}

/** Analytics events in the `events` table, oldest dropped beyond `max`. */
export class SqliteEventStore implements EventStore {
  private readonly q;
  private writes = 0;
  constructor(
    private readonly db: Database,
    private readonly max: number,
  ) {
    this.q = {
      add: db.prepare('INSERT INTO events (at, body) VALUES (?, ?)'),
      list: db.prepare<[number, number, number], { body: string }>('SELECT body FROM events WHERE at >= ? AND at < ? ORDER BY id LIMIT ?'),
      trim: db.prepare('DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?'),
    };
  }
  async append(events: AnalyticsEvent[]): Promise<void> {
    this.db.transaction(() => this.put(events))();
  }
  /** Writes events in the caller's transaction (a turn's commit). */
  put(events: AnalyticsEvent[]): void {
    for (const e of events) this.q.add.run(Date.parse(e.at) || Date.now(), JSON.stringify(e));
    // Trimming every write would cost a scan; every thousandth is enough for a cap.
    if ((this.writes += events.length) >= 1000) {
      this.writes = 0;
      this.q.trim.run(this.max);
    }
  }
  async list(range: { from?: string; to?: string; limit?: number } = {}): Promise<AnalyticsEvent[]> {
    const from = range.from ? Date.parse(range.from) : 0;
    const to = range.to ? Date.parse(range.to) : Number.MAX_SAFE_INTEGER;
    return this.q.list.all(from, to, range.limit ?? 100_000).map((r) => JSON.parse(r.body) as AnalyticsEvent);
  }
}
