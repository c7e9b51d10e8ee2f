import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { memoryLock } from './memory-db.js';
import type { HandoffDb } from './types.js';

/** Handoff documents in one SQLite file (embedded mode: one process, so locks are in-process). */
export function createSqliteHandoffDb(file: string): HandoffDb {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // As the conversation store (sqlite-stores.ts): WAL without an fsync per commit, durable at checkpoints.
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, expires INTEGER, PRIMARY KEY (kind, id));
    CREATE TABLE IF NOT EXISTS idx (kind TEXT NOT NULL, id TEXT NOT NULL, score REAL NOT NULL, PRIMARY KEY (kind, id));
    CREATE TABLE IF NOT EXISTS lists (n INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS lists_key ON lists (kind, id, n);`);
  const q = {
    get: db.prepare<[string, string, number], { doc: string }>('SELECT doc FROM docs WHERE kind = ? AND id = ? AND (expires IS NULL OR expires > ?)'),
    put: db.prepare('INSERT INTO docs (kind, id, doc, expires) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, expires = excluded.expires'),
    putNew: db.prepare('INSERT INTO docs (kind, id, doc) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO NOTHING'),
    del: db.prepare('DELETE FROM docs WHERE kind = ? AND id = ?'),
    index: db.prepare('INSERT INTO idx (kind, id, score) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET score = excluded.score'),
    unindex: db.prepare('DELETE FROM idx WHERE kind = ? AND id = ?'),
    range: db.prepare<[string, number], { id: string }>('SELECT id FROM idx WHERE kind = ? AND score >= ? ORDER BY score, id'),
    push: db.prepare('INSERT INTO lists (kind, id, doc) VALUES (?, ?, ?)'),
    list: db.prepare<[string, string], { doc: string }>('SELECT doc FROM lists WHERE kind = ? AND id = ? ORDER BY n'),
  };
  const get = (kind: string, id: string) => q.get.get(kind, id, Date.now())?.doc;
  const incr = db.transaction((kind: string, id: string, ttl?: number) => {
    const n = Number(get(kind, id) ?? 0) + 1;
    q.put.run(kind, id, String(n), ttl ? Date.now() + ttl * 1000 : null);
    return n;
  });
  return {
    async get<T>(kind: string, id: string) {
      const raw = get(kind, id);
      return raw === undefined ? null : (JSON.parse(raw) as T);
    },
    async put(kind, id, doc, ttl) {
      q.put.run(kind, id, JSON.stringify(doc), ttl ? Date.now() + ttl * 1000 : null);
    },
    async putNew(kind, id, doc) {
      if (get(kind, id) !== undefined) return false;
      q.del.run(kind, id);
      return q.putNew.run(kind, id, JSON.stringify(doc)).changes === 1;
    },
    async del(kind, id) {
      q.del.run(kind, id);
    },
    async index(kind, id, score) {
      q.index.run(kind, id, score);
    },
    async unindex(kind, id) {
      q.unindex.run(kind, id);
    },
    async range(kind, min = -Number.MAX_VALUE) {
      return q.range.all(kind, Math.max(min, -Number.MAX_VALUE)).map((r) => r.id);
    },
    async incr(kind, id, ttl) {
      return incr(kind, id, ttl);
    },
    async push(kind, id, doc) {
      q.push.run(kind, id, JSON.stringify(doc));
    },
    async list<T>(kind: string, id: string) {
      return q.list.all(kind, id).map((r) => JSON.parse(r.doc) as T);
    },
    withLock: memoryLock(),
    async close() {
      db.close();
    },
  };
}
