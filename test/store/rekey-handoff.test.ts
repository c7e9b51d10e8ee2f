import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { connectHandoffRedis, createRedisHandoffDb, createSqliteHandoffDb } from '../../src/handoff/index.js';
import { protectHandoffDb } from '../../src/handoff/protect-db.js';
import type { HandoffDb } from '../../src/handoff/types.js';
import { createFieldCipher, keyIdOf, type FieldCipher } from '../../src/privacy/index.js';
import { createSqliteStores } from '../../src/store/index.js';
import { openSqliteRekey, rekeyStores } from '../../src/store/rekey.js';
import { deleteKeys, redisSuite } from '../helpers/redis.js';
import { A, B, b64, C, rotated, runRekey } from './rekey-harness.js';

const MOBILE = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const sealedBy = (k: Buffer) => new RegExp(`^enc:v1:${keyIdOf(k)}:`);

// A handoff with a callback mobile, one without any personal number, and a callback ticket.
const withCallback = { id: 'H1', conversationId: 'c1', status: 'waiting', raw: { 'callback.mobile': MOBILE }, callbackMobile: MOBILE, masked: { 'callback.mobile': '139****0000' } };
const bare = { id: 'H2', conversationId: 'c2', status: 'waiting', raw: {}, masked: {} };
const ticket = { id: 'CB1', handoffId: 'H1', mobile: MOBILE, slot: '今天 14:00-16:00', status: 'open' };
const lost = { id: 'CB-lost', handoffId: 'H9', mobile: MOBILE, slot: '明天', status: 'open' };

/** Raw stored documents of kinds handoff and callback, by `<kind>:<id>`. */
type Raw = Record<string, string>;

/** One backend under test: its handoff and callback dbs over a cipher, the config naming it, its raw documents. */
interface Backend {
  open(cipher: FieldCipher): Promise<{ handoffs: HandoffDb; callbacks: HandoffDb; close(): Promise<void> }>;
  config(env: Record<string, string>): Config;
  raw(): Promise<Raw>;
}

/** Writes the handoffs and the ticket under key A (the handoff with a TTL), and one ticket under key C (never configured). */
async function seed(b: Backend): Promise<void> {
  const s = await b.open(createFieldCipher(A));
  await s.handoffs.put('handoff', withCallback.id, withCallback, 3600);
  await s.handoffs.put('handoff', bare.id, bare);
  await s.handoffs.put('handoff-active', 'c1', { id: withCallback.id });
  await s.callbacks.put('callback', ticket.id, ticket);
  await s.close();
  const other = await b.open(createFieldCipher(C));
  await other.callbacks.put('callback', lost.id, lost);
  await other.close();
}

/** The behaviour both backends must show for the handoff documents. */
function handoffContract(b: Backend) {
  it('a dry run counts and writes nothing', async () => {
    await seed(b);
    const before = await b.raw();
    expect(Object.keys(before).sort()).toEqual(['callback:CB-lost', 'callback:CB1', 'handoff:H1', 'handoff:H2']);
    const { code, out } = await runRekey(b.config(rotated), ['--dry-run']);
    expect(await b.raw()).toEqual(before);
    expect(out).toContain('dry run: nothing written');
    expect(out).toContain('handoffs: examined 4, re-encrypted 2, already current 1, unreadable 1');
    expect(code).toBe(1);
  });

  it('re-seals every sealed field under the new key, leaves the unreadable document as it was, and names it by id only', async () => {
    const before = await b.raw();
    const { code, out } = await runRekey(b.config(rotated));
    expect(code).toBe(1);
    expect(out).toContain('handoffs: examined 4, re-encrypted 2, already current 1, unreadable 1');
    expect(out).toContain('unreadable handoffs: callback:CB-lost');
    expect(out).not.toContain(MOBILE);
    const after = await b.raw();
    const h1 = JSON.parse(after['handoff:H1']!);
    expect(h1.raw).toMatch(sealedBy(B));
    expect(h1.callbackMobile).toMatch(sealedBy(B));
    expect(h1.status).toBe('waiting');
    expect(JSON.parse(after['callback:CB1']!).mobile).toMatch(sealedBy(B));
    expect(after['handoff:H2']).toBe(before['handoff:H2']);
    expect(after['callback:CB-lost']).toBe(before['callback:CB-lost']);
    expect(JSON.parse(after['callback:CB-lost']!).mobile).toMatch(sealedBy(C));
    expect(JSON.stringify(after)).not.toContain(MOBILE);
  });

  it('reads back the same documents with only the new key configured', async () => {
    const s = await b.open(createFieldCipher(B));
    expect(await s.handoffs.get('handoff', withCallback.id)).toEqual(withCallback);
    expect(await s.handoffs.get('handoff', bare.id)).toEqual(bare);
    expect(await s.callbacks.get('callback', ticket.id)).toEqual(ticket);
    expect(await s.handoffs.get('handoff-active', 'c1')).toEqual({ id: withCallback.id });
    await expect(s.callbacks.get('callback', lost.id)).rejects.toThrow(/unknown key id/);
    await s.close();
  });

  it('a second run re-encrypts nothing and writes nothing', async () => {
    const before = await b.raw();
    const { out } = await runRekey(b.config({ DATA_KEY: b64(B) }));
    expect(out).toContain('handoffs: examined 4, re-encrypted 0, already current 3, unreadable 1');
    expect(await b.raw()).toEqual(before);
  });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('data rekey of the handoff documents on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsa-rekey-handoff-'));
  const handoffDir = join(dir, 'handoff');
  dirs.push(dir);
  /** Every sealed-kind document of both files, read straight from them. */
  const raw = async (): Promise<Raw> => {
    const out: Raw = {};
    for (const file of ['handoffs.sqlite', 'callbacks.sqlite']) {
      const db = new BetterSqlite3(join(handoffDir, file), { readonly: true });
      for (const r of db.prepare("SELECT kind || ':' || id AS id, doc FROM docs WHERE kind IN ('handoff', 'callback')").all() as { id: string; doc: string }[]) out[r.id] = r.doc;
      db.close();
    }
    return out;
  };
  const backend: Backend = {
    open: async (cipher) => {
      const h = createSqliteHandoffDb(join(handoffDir, 'handoffs.sqlite'));
      const c = createSqliteHandoffDb(join(handoffDir, 'callbacks.sqlite'));
      return { handoffs: protectHandoffDb(h, cipher), callbacks: protectHandoffDb(c, cipher), close: async () => void (await Promise.all([h.close(), c.close()])) };
    },
    // No assistant.sqlite in DATA_DIR: the handoff files alone are re-encrypted.
    config: (env) => loadConfig({ DATA_DIR: dir, HANDOFF_DATA_DIR: handoffDir, ...env }),
    raw,
  };
  handoffContract(backend);

  it('runs beside a server holding the files open, and leaves alone a document it rewrote meanwhile', async () => {
    const old = await backend.open(createFieldCipher(A));
    await old.callbacks.put('callback', 'CB-busy', { ...ticket, id: 'CB-busy' });
    const server = await backend.open(createFieldCipher(B, [A]));
    const rk = openSqliteRekey(null, handoffDir)!;
    const callbacksFile = rk.kinds[1]!;
    const replace = callbacksFile.replace.bind(callbacksFile);
    // The server's write lands between the job's read and its compare-and-set.
    callbacksFile.replace = async (id, from, to) => {
      if (id === 'callback:CB-busy') await server.callbacks.put('callback', 'CB-busy', { ...ticket, id: 'CB-busy', status: 'done' });
      return replace(id, from, to);
    };
    const report = await rekeyStores(rk, createFieldCipher(B, [A]));
    await rk.close();
    expect(report.handoffs).toMatchObject({ examined: 5, reencrypted: 0, current: 4, unreadable: 1 });
    expect(await server.callbacks.get('callback', 'CB-busy')).toEqual({ ...ticket, id: 'CB-busy', status: 'done' });
    expect(JSON.parse((await raw())['callback:CB-busy']!).mobile).toMatch(sealedBy(B));
    await Promise.all([old.close(), server.close()]);
  });

  it('re-encrypts the conversation store and the handoff files in one run', async () => {
    const both = join(dir, 'both');
    const stores = await createSqliteStores({ dataDir: both, cipher: createFieldCipher(A) });
    await stores.sessions.set('c1', { schemaVersion: 1, state: { dialogue: { answers: { mobile: MOBILE } } }, updatedAt: '2026-12-01T00:00:00.000Z' });
    await stores.close();
    const h = createSqliteHandoffDb(join(both, 'callbacks.sqlite'));
    await protectHandoffDb(h, createFieldCipher(A)).put('callback', ticket.id, ticket);
    await h.close();
    const { code, out } = await runRekey(loadConfig({ DATA_DIR: both, HANDOFF_DATA_DIR: both, ...rotated }));
    expect(code).toBe(0);
    expect(out).toContain('sessions: examined 1, re-encrypted 1, already current 0, unreadable 0');
    expect(out).toContain('handoffs: examined 1, re-encrypted 1, already current 0, unreadable 0');
  });

  it('finds nothing to do when neither the conversation store nor the handoff files exist', async () => {
    const empty = join(dir, 'none');
    const { code, out } = await runRekey(loadConfig({ DATA_DIR: empty, HANDOFF_DATA_DIR: empty, DATA_KEY: b64(B) }));
    expect(code).toBe(0);
    expect(out).toContain('nothing to re-encrypt');
    expect(existsSync(join(empty, 'handoffs.sqlite'))).toBe(false);
  });
});

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-rekey-handoff-${process.pid}-${randomUUID().slice(0, 8)}`;
const suite = await redisSuite('data rekey of the handoff documents on Redis', url, prefix);

suite('data rekey of the handoff documents on Redis', () => {
  afterAll(() => deleteKeys(url, prefix));
  const backend: Backend = {
    open: async (cipher) => {
      const client = await connectHandoffRedis(url);
      const db = protectHandoffDb(createRedisHandoffDb(client, prefix), cipher);
      return { handoffs: db, callbacks: db, close: async () => void (await client.close()) };
    },
    config: (env) => loadConfig({ REDIS_URL: url, REDIS_PREFIX: prefix, ...env }),
    raw: async () => {
      const client = createClient({ url });
      await client.connect();
      const out: Raw = {};
      for (const kind of ['handoff', 'callback']) {
        for await (const keys of client.scanIterator({ MATCH: `${prefix}:${kind}:*` })) for (const k of keys) out[k.slice(`${prefix}:`.length)] = String(await client.get(k));
      }
      await client.close();
      return out;
    },
  };
  handoffContract(backend);

  it('keeps the TTL of what it rewrote', async () => {
    const client = createClient({ url });
    await client.connect();
    expect(await client.ttl(`${prefix}:handoff:H1`)).toBeGreaterThan(0);
    expect(await client.ttl(`${prefix}:callback:CB1`)).toBe(-1);
    await client.close();
  });
});
