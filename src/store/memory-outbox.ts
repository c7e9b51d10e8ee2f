import type { AnalyticsEvent, EventStore, OutboxEntry, OutboxRecord, OutboxStore } from './types.js';

type Row = OutboxRecord & { owner?: string };

/** In-process outbox: a map of records; a lease is the owner plus a due time pushed past the lease. */
export class MemoryOutboxStore implements OutboxStore {
  private readonly rows = new Map<string, Row>();
  /** Adds synchronously (commits call it after their checks, so nothing throws between writes). */
  put(entries: OutboxEntry[], now = Date.now()): void {
    for (const e of entries) if (!this.rows.has(e.id)) this.rows.set(e.id, { ...structuredClone(e), state: 'pending', attempts: 0, dueAt: now });
  }
  async add(entries: OutboxEntry[]): Promise<void> {
    this.put(entries);
  }
  async claim(owner: string, leaseMs: number, limit: number, now = Date.now()): Promise<OutboxRecord[]> {
    const due = [...this.rows.values()].filter((r) => r.state === 'pending' && r.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt).slice(0, limit);
    for (const r of due) {
      r.owner = owner;
      r.dueAt = now + leaseMs;
    }
    return due.map(publicRecord);
  }
  async delivered(id: string, owner: string): Promise<boolean> {
    const r = this.rows.get(id);
    if (!r || r.owner !== owner || r.state !== 'pending') return false;
    this.rows.delete(id);
    return true;
  }
  async failed(id: string, owner: string, error: string, retryAt: number | null, now = Date.now()): Promise<boolean> {
    const r = this.rows.get(id);
    if (!r || r.owner !== owner || r.state !== 'pending') return false;
    r.attempts += 1;
    r.lastError = error;
    delete r.owner;
    if (retryAt === null) Object.assign(r, { state: 'dead', dueAt: now });
    else r.dueAt = retryAt;
    return true;
  }
  async dead(limit = 100): Promise<OutboxRecord[]> {
    return [...this.rows.values()].filter((r) => r.state === 'dead').sort((a, b) => b.dueAt - a.dueAt).slice(0, limit).map(publicRecord);
  }
  async counts(): Promise<{ pending: number; dead: number }> {
    const all = [...this.rows.values()];
    return { pending: all.filter((r) => r.state === 'pending').length, dead: all.filter((r) => r.state === 'dead').length };
  }
  async get(id: string): Promise<OutboxRecord | null> {
    const r = this.rows.get(id);
    return r ? publicRecord(r) : null;
  }
  async replay(id: string, now = Date.now()): Promise<boolean> {
    const r = this.rows.get(id);
    if (!r || r.state !== 'dead') return false;
    Object.assign(r, { state: 'pending', attempts: 0, dueAt: now });
    delete r.lastError;
    return true;
  }
}

function publicRecord(r: Row): OutboxRecord {
  const { owner: _o, ...rest } = r;
  return structuredClone(rest);
}

/** In-process event log, capped at `max` (the oldest go first). */
export class MemoryEventStore implements EventStore {
  private readonly events: AnalyticsEvent[] = [];
  constructor(private readonly max: number) {}
  async append(events: AnalyticsEvent[]): Promise<void> {
    this.put(events);
  }
  /** Appends synchronously (inside a turn's commit). */
  put(events: AnalyticsEvent[]): void {
    this.events.push(...structuredClone(events));
    if (this.events.length > this.max) this.events.splice(0, this.events.length - this.max);
  }
  async list(range: { from?: string; to?: string; limit?: number } = {}): Promise<AnalyticsEvent[]> {
    const from = range.from ? Date.parse(range.from) : -Infinity;
    const to = range.to ? Date.parse(range.to) : Infinity;
    const out = this.events.filter((e) => {
      const t = Date.parse(e.at);
      return t >= from && t < to;
    });
    return structuredClone(out.slice(0, range.limit ?? 100_000));
  }
}
