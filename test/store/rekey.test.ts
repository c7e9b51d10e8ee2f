import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { Application } from '../../src/core/index.js';
import { createFieldCipher, keyIdOf, type FieldCipher } from '../../src/privacy/index.js';
import { createRedisStores, createSqliteStores, type OutboxEntry, type Stores } from '../../src/store/index.js';
import { openRedisRekey, rekeyStores } from '../../src/store/rekey.js';
import { deleteKeys, redisSuite } from '../helpers/redis.js';
import { A, B, b64, C, rotated, runRekey } from './rekey-harness.js';

const ID_CARD = '420106198503121233';
const MOBILE = '13812345678';
const sealedBy = (k: Buffer) => `enc:v1:${keyIdOf(k)}:`;

const session = (n: number) => ({ schemaVersion: 1, state: { dialogue: { mode: 'flow', answers: { idCard: ID_CARD, mobile: MOBILE, n } } }, updatedAt: '2026-12-01T00:00:00.000Z' });
const app: Application = {
  ref: 'WS20261201-0001', flowId: 'buy-house', title: '二手房用水一件事', conversationId: 'c1',
  answers: { account: '1002345678', name: '张三', idCard: ID_CARD, mobile: MOBILE, fivePlus: false },
  fields: [{ label: '手机号', value: '138****5678' }], items: ['transfer-ownership'], checklist: [], mobile: MOBILE, status: 'submitted',
  submittedAt: new Date().toISOString(), dueDate: '2026-12-04', timeLimit: { value: 3, unit: '工作日' }, nextSteps: [],
};
const entry: OutboxEntry = { id: 'callback:t1', kind: 'callback', payload: { mobile: MOBILE, slot: '今天' }, createdAt: '2026-12-01T00:00:00.000Z' };

/** Raw stored values of every sealed record, by kind and id. */
type Raw = { sessions: Record<string, string>; applications: Record<string, string>; outbox: Record<string, string> };

/** One backend under test: how to open its stores with a cipher, the config naming it, and its raw values. */
interface Backend {
  open(cipher: FieldCipher): Promise<Stores>;
  config(env: Record<string, string>): Config;
  raw(): Promise<Raw>;
}

/** Writes two sessions, an application and an outbox entry under key A, and one session under key C (never configured). */
async function seed(b: Backend): Promise<void> {
  const s = await b.open(createFieldCipher(A));
  await s.sessions.set('c1', session(1));
  await s.sessions.set('c2', session(2));
  await s.applications.save(app);
  await s.outbox.add([entry]);
  await s.close();
  const other = await b.open(createFieldCipher(C));
  await other.sessions.set('c-lost', session(3));
  await other.close();
}

/** The behaviour both backends must show. */
function rekeyContract(b: Backend) {
  it('a dry run counts and writes nothing', async () => {
    await seed(b);
    const before = await b.raw();
    const { code, out } = await runRekey(b.config(rotated), ['--dry-run']);
    expect(await b.raw()).toEqual(before);
    expect(out).toContain('dry run: nothing written');
    expect(out).toContain('sessions: examined 3, re-encrypted 2, already current 0, unreadable 1');
    expect(out).toContain('applications: examined 1, re-encrypted 1, already current 0, unreadable 0');
    expect(out).toContain('outbox: examined 1, re-encrypted 1, already current 0, unreadable 0');
    expect(code).toBe(1);
  });

  it('re-seals everything under the new key, leaves the unreadable value as it was, and names it by id only', async () => {
    const before = await b.raw();
    const { out } = await runRekey(b.config(rotated));
    expect(out).toContain('sessions: examined 3, re-encrypted 2, already current 0, unreadable 1');
    expect(out).toContain('applications: examined 1, re-encrypted 1, already current 0, unreadable 0');
    expect(out).toContain('outbox: examined 1, re-encrypted 1, already current 0, unreadable 0');
    expect(out).toContain('unreadable sessions: c-lost');
    expect(out).not.toContain(MOBILE);
    expect(out).not.toContain(ID_CARD);
    const after = await b.raw();
    for (const id of ['c1', 'c2']) expect(JSON.parse(after.sessions[id]!).state).toMatch(new RegExp(`^${sealedBy(B)}`));
    const stored = JSON.parse(after.applications[app.ref]!) as Application;
    expect(stored.mobile).toMatch(new RegExp(`^${sealedBy(B)}`));
    expect(stored.answers.$sealed).toMatch(new RegExp(`^${sealedBy(B)}`));
    expect(JSON.parse(after.outbox[entry.id]!).payload.$sealed).toMatch(new RegExp(`^${sealedBy(B)}`));
    expect(after.sessions['c-lost']).toBe(before.sessions['c-lost']);
    expect(JSON.stringify(after)).not.toContain(MOBILE);
  });

  it('opens to the same data with only the new key configured', async () => {
    const s = await b.open(createFieldCipher(B));
    expect((await s.sessions.get('c1'))?.state).toEqual(session(1).state);
    expect((await s.sessions.get('c2'))?.state).toEqual(session(2).state);
    expect(await s.applications.get(app.ref)).toEqual(app);
    expect((await s.outbox.get(entry.id))?.payload).toEqual(entry.payload);
    await expect(s.sessions.get('c-lost')).rejects.toThrow(/unknown key id/);
    await s.close();
  });

  it('a second run re-encrypts nothing and writes nothing', async () => {
    const before = await b.raw();
    const { out } = await runRekey(b.config({ DATA_KEY: b64(B) }));
    expect(out).toContain('sessions: examined 3, re-encrypted 0, already current 2, unreadable 1');
    expect(out).toContain('applications: examined 1, re-encrypted 0, already current 1, unreadable 0');
    expect(out).toContain('outbox: examined 1, re-encrypted 0, already current 1, unreadable 0');
    expect(await b.raw()).toEqual(before);
  });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Every row of a table, read straight from the file. */
function rows(dir: string, sql: string): Record<string, string> {
  const db = new BetterSqlite3(join(dir, 'assistant.sqlite'), { readonly: true });
  try {
    return Object.fromEntries((db.prepare(sql).all() as { id: string; raw: string }[]).map((r) => [r.id, r.raw]));
  } finally {
    db.close();
  }
}

describe('data rekey on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsa-rekey-'));
  dirs.push(dir);
  const backend: Backend = {
    open: async (cipher) => createSqliteStores({ dataDir: dir, cipher }),
    config: (env) => loadConfig({ DATA_DIR: dir, HANDOFF_DATA_DIR: dir, ...env }),
    raw: async () => ({
      sessions: rows(dir, 'SELECT id, record AS raw FROM sessions'),
      applications: rows(dir, 'SELECT ref AS id, body AS raw FROM applications'),
      outbox: rows(dir, 'SELECT id, entry AS raw FROM outbox'),
    }),
  };
  rekeyContract(backend);

  it('refuses, saying to stop the server, while a server holds the file (the real command, another process)', async () => {
    const server = await backend.open(createFieldCipher(B));
    try {
      const env = { ...process.env, DATA_DIR: dir, HANDOFF_DATA_DIR: dir, DATA_KEY: b64(B), REDIS_URL: '' };
      const err = await promisify(execFile)(join('node_modules', '.bin', 'tsx'), ['src/cli.ts', 'data', 'rekey'], { env }).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code).toBe(1);
      expect(err?.stderr).toContain('is held by a running server');
      expect(err?.stderr).toContain('stop the server');
    } finally {
      await server.close();
    }
  });

  it('prints a usage line in the CLI usage', async () => {
    const out = await promisify(execFile)(join('node_modules', '.bin', 'tsx'), ['src/cli.ts'], { env: process.env }).catch((e: { stderr: string }) => e);
    expect(out.stderr).toContain('data rekey [--dry-run]');
  });
});

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-rekey-${process.pid}-${randomUUID().slice(0, 8)}`;
const suite = await redisSuite('data rekey on Redis', url, prefix);

suite('data rekey on Redis', () => {
  afterAll(() => deleteKeys(url, prefix));
  /** Raw values under one key kind, read with a plain client. */
  async function scan(kind: string, field?: string): Promise<Record<string, string>> {
    const client = createClient({ url });
    await client.connect();
    const out: Record<string, string> = {};
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:${kind}:*` })) for (const k of keys) out[k.slice(`${prefix}:${kind}:`.length)] = String(field ? await client.hGet(k, field) : await client.get(k));
    await client.close();
    return out;
  }
  const backend: Backend = {
    open: (cipher) => createRedisStores(url, { prefix, cipher }),
    config: (env) => loadConfig({ REDIS_URL: url, REDIS_PREFIX: prefix, ...env }),
    raw: async () => ({
      sessions: await scan('session'),
      applications: await scan('app'),
      outbox: await scan('outbox', 'entry'),
    }),
  };
  rekeyContract(backend);

  it('keeps the TTL of what it rewrote', async () => {
    const client = createClient({ url });
    await client.connect();
    expect(await client.ttl(`${prefix}:session:c1`)).toBeGreaterThan(0);
    expect(await client.ttl(`${prefix}:app:${app.ref}`)).toBeGreaterThan(0);
    await client.close();
  });

  it('leaves alone a value the server rewrote meanwhile and counts it as current', async () => {
    const old = await createRedisStores(url, { prefix, cipher: createFieldCipher(A) });
    await old.sessions.set('c-busy', session(4));
    await old.close();
    const server = await createRedisStores(url, { prefix, cipher: createFieldCipher(B, [A]) });
    const rk = await openRedisRekey(url, prefix);
    const sessions = rk.kinds.find((k) => k.name === 'sessions')!;
    const replace = sessions.replace.bind(sessions);
    // The server's write lands between the job's read and its compare-and-set.
    sessions.replace = async (id, from, to) => {
      if (id === 'c-busy') await server.sessions.set('c-busy', session(5));
      return replace(id, from, to);
    };
    const report = await rekeyStores(rk, createFieldCipher(B, [A]));
    await rk.close();
    expect(report.sessions).toMatchObject({ examined: 4, reencrypted: 0, current: 3, unreadable: 1 });
    expect((await server.sessions.get('c-busy'))?.state).toEqual(session(5).state);
    expect(JSON.parse((await backend.raw()).sessions['c-busy']!).state).toMatch(new RegExp(`^${sealedBy(B)}`));
    await server.close();
  });
});
