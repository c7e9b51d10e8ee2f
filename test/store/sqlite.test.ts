import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStores, createStores } from '../../src/store/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite-schema.js';
import { expiry } from '../../src/store/sqlite-stores.js';
import { storeContract } from './contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsa-sqlite-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeContract(
  'sqlite',
  async (overrides) => createSqliteStores({ dataDir: tempDir(), ...overrides }),
  async () => {
    const dataDir = tempDir();
    return { stores: createSqliteStores({ dataDir }), reopen: async () => createSqliteStores({ dataDir }) };
  },
);

describe('sqlite file', () => {
  it('is the createStores default, in WAL mode, at the current schema version', async () => {
    const dataDir = tempDir();
    const stores = await createStores({ dataDir });
    expect(stores.backend).toBe('sqlite');
    await stores.close();
    const db = new BetterSqlite3(join(dataDir, 'assistant.sqlite'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
    db.close();
  });

  it('refuses a second process on the same DATA_DIR, and opens again once the first closes', async () => {
    const dataDir = tempDir();
    const first = createSqliteStores({ dataDir });
    expect(() => new BetterSqlite3(join(dataDir, 'assistant.sqlite')).prepare('SELECT count(*) FROM sessions').get()).toThrow(/locked/);
    expect(() => createSqliteStores({ dataDir })).toThrow(/in use by another process/);
    await first.close();
    const second = createSqliteStores({ dataDir });
    await second.close();
  });

  it('refuses a file written by a newer schema', () => {
    const dataDir = tempDir();
    createSqliteStores({ dataDir }).close();
    const db = new BetterSqlite3(join(dataDir, 'assistant.sqlite'));
    db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    db.close();
    expect(() => createSqliteStores({ dataDir })).toThrow(/newer than this code/);
  });
});

describe('SQLite deadlines', () => {
  it('keep a record at least its TTL and at most 1% longer, one deadline for the turns within a step', () => {
    const day = 86_400_000;
    for (const [now, ttl] of [[1_796_000_000_123, day], [1_796_000_000_999, 1_000], [5, 1]] as const) {
      const at = expiry(now, ttl);
      expect(at).toBeGreaterThanOrEqual(now + ttl);
      expect(at).toBeLessThanOrEqual(now + ttl + Math.max(1, ttl / 100));
    }
    // Two turns 10 s apart in a day-long TTL write the same deadline (the expiry index is left alone)...
    const base = Math.floor(1_796_000_000_000 / 60_000) * 60_000 + 1;
    expect(expiry(base + 10_000, day)).toBe(expiry(base, day));
    // ...and a turn a minute later moves it on.
    expect(expiry(base + 60_000, day)).toBeGreaterThan(expiry(base, day));
  });
});
