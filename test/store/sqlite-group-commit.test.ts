import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGroupCommit } from '../../src/store/sqlite-group-commit.js';

let dir: string;
let db: Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsa-group-'));
  db = new BetterSqlite3(join(dir, 'g.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE rows (conversation TEXT NOT NULL, text TEXT NOT NULL)');
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => db.prepare('SELECT conversation, text FROM rows ORDER BY rowid').all() as { conversation: string; text: string }[];

/** A write of two rows for `id`, failing between them for the conversation named "bad"; it returns `id`. */
function write(id: string) {
  return () => {
    const insert = db.prepare('INSERT INTO rows (conversation, text) VALUES (?, ?)');
    insert.run(id, 'first');
    if (id === 'bad') throw new Error('write failed');
    insert.run(id, 'second');
    return id;
  };
}

describe('SQLite group commit', () => {
  it('writes the turns that reach commit in one pass of the event loop in one transaction', async () => {
    const group = createGroupCommit(db);
    const stored = await Promise.all(['a', 'b', 'c', 'd'].map((id) => group.run(write(id))));
    expect(stored).toEqual(['a', 'b', 'c', 'd']);
    expect(group.stats()).toEqual({ transactions: 1, writes: 4 });
    expect(rows()).toHaveLength(8);
    // A turn that arrives after the flush gets a transaction of its own.
    await group.run(write('e'));
    expect(group.stats()).toEqual({ transactions: 2, writes: 5 });
  });

  it('undoes only the failing turn: its first row is rolled back, the others commit whole', async () => {
    const group = createGroupCommit(db);
    const outcomes = await Promise.allSettled(['a', 'bad', 'c'].map((id) => group.run(write(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('write failed');
    expect(rows()).toEqual([
      { conversation: 'a', text: 'first' },
      { conversation: 'a', text: 'second' },
      { conversation: 'c', text: 'first' },
      { conversation: 'c', text: 'second' },
    ]);
  });

  it('rejects every turn of a batch whose transaction cannot commit, and answers none of them', async () => {
    const group = createGroupCommit(db);
    const pending = ['a', 'b'].map((id) => group.run(write(id)));
    db.close();
    const outcomes = await Promise.allSettled(pending);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });

  it('rejects a turn whose after-commit hook throws, with its writes kept (committed, not answered)', async () => {
    let calls = 0;
    const group = createGroupCommit(db, () => {
      if (calls++ === 0) throw new Error('crash after commit');
    });
    const outcomes = await Promise.allSettled(['a', 'b'].map((id) => group.run(write(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    expect(rows()).toHaveLength(4);
  });
});

describe('SQLite group commit, flushed by hand', () => {
  it('commits what waits at once, so the database can close with nothing lost', async () => {
    const group = createGroupCommit(db);
    const pending = group.run(write('a'));
    group.flush();
    db.close();
    expect(await pending).toBe('a');
    db = new BetterSqlite3(join(dir, 'g.sqlite'));
    expect(rows()).toHaveLength(2);
  });
});
