import { deleteKeys, redisSuite } from '../helpers/redis.js';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisStores, createStores, type Stores } from '../../src/store/index.js';
import { WriteFence } from '../../src/store/redis-client.js';
import { SET_SESSION } from '../../src/store/redis-scripts.js';
import { RedisLockManager } from '../../src/store/redis-stores.js';
import { storeContract } from './contract.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-test-${process.pid}-${randomUUID().slice(0, 8)}`;


/** A local TCP port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Deletes every key under the test prefix. */
const deletePrefix = () => deleteKeys(url, prefix);

const suite = await redisSuite('redis stores', url, prefix);

suite('redis stores', () => {
  const opened: Stores[] = [];
  /** Stores on the shared test prefix, closed after the suite. */
  async function open(): Promise<Stores> {
    const s = await createRedisStores(url, { prefix });
    opened.push(s);
    return s;
  }

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await deletePrefix();
  });

  storeContract(
    'redis',
    (overrides) => createRedisStores(url, { prefix, ...overrides }),
    async () => ({ stores: await createRedisStores(url, { prefix }), reopen: () => createRedisStores(url, { prefix }) }),
  );

  it('uses <prefix>:<kind>:<id> keys', async () => {
    const s = await open();
    const id = randomUUID();
    await s.sessions.set(id, { schemaVersion: 1, state: {}, updatedAt: new Date().toISOString() });
    const client = createClient({ url });
    await client.connect();
    try {
      expect(await client.exists(`${prefix}:session:${id}`)).toBe(1);
      const ttl = await client.ttl(`${prefix}:session:${id}`);
      expect(ttl).toBeGreaterThan(7 * 86_400 - 60);
    } finally {
      await client.close();
    }
  });

  it('serializes one lock key across two separate clients', async () => {
    const [a, b] = [await open(), await open()];
    const key = `shared-${randomUUID()}`;
    let inside = 0;
    let maxInside = 0;
    const work = async (): Promise<void> => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(5);
      inside--;
    };
    await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).locks.withLock(key, work)));
    expect(maxInside).toBe(1);
    expect(inside).toBe(0);
  });

  it('renews the lease while slow work runs', async () => {
    const clients = [createClient({ url }), createClient({ url })];
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const [one, two] = clients.map((c) => new RedisLockManager(c, prefix, 2_000, 150));
      const key = `lease-${randomUUID()}`;
      let inside = 0;
      let maxInside = 0;
      const slow = async (): Promise<void> => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(500);
        inside--;
      };
      const first = one!.withLock(key, slow);
      await sleep(20);
      await Promise.all([first, two!.withLock(key, slow)]);
      expect(maxInside).toBe(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it("hands each lock holder the session as the previous holder committed it, and a write inside the lock is read back", async () => {
    const s = await open();
    const id = randomUUID();
    const record = (n: number) => ({ schemaVersion: 1, state: { n }, updatedAt: new Date().toISOString() });
    await s.sessions.set(id, record(0));
    // Ten holders one after another (most wait and are served by POLL): each reads n and commits n + 1.
    await Promise.all(
      Array.from({ length: 10 }, () =>
        s.locks.withLock(id, async () => {
          const n = (await s.sessions.get<{ n: number }>(id))!.state.n;
          await sleep(5);
          await s.commitTurn({ conversationId: id, session: record(n + 1), messages: [], applications: [] });
        }),
      ),
    );
    expect((await s.sessions.get<{ n: number }>(id))!.state.n).toBe(10);
    // Writes before the first read: the session read when the lock was served is stale by then.
    await s.locks.withLock(id, async () => {
      await s.sessions.set(id, record(42));
      expect((await s.sessions.get<{ n: number }>(id))!.state.n).toBe(42);
    });
    await s.locks.withLock(id, async () => {
      await s.sessions.delete(id);
      expect(await s.sessions.get(id)).toBeNull();
    });
    await s.locks.withLock(id, async () => {
      await s.commitTurn({ conversationId: id, session: record(7), messages: [], applications: [] });
      expect((await s.sessions.get<{ n: number }>(id))!.state.n).toBe(7);
    });
  });

  it('runs its scripts after Redis forgot them (SCRIPT FLUSH, as after a restart)', async () => {
    const s = await open();
    const id = randomUUID();
    await s.commitTurn({ conversationId: id, session: { schemaVersion: 1, state: {}, updatedAt: new Date().toISOString() }, messages: [{ from: 'user', text: 'a', at: new Date().toISOString() }], applications: [] });
    const client = createClient({ url });
    await client.connect();
    try {
      await client.scriptFlush();
    } finally {
      await client.close();
    }
    const stored = await s.locks.withLock(id, () => s.commitTurn({ conversationId: id, session: { schemaVersion: 1, state: {}, updatedAt: new Date().toISOString() }, messages: [{ from: 'user', text: 'b', at: new Date().toISOString() }], applications: [] }));
    expect(stored.map((m) => [m.seq, m.text])).toEqual([[2, 'b']]);
  });

  it('refuses a write past its deadline, and recovers from a clock step by re-measuring', async () => {
    const client = createClient({ url });
    await client.connect();
    try {
      const key = `${prefix}:session:fence-${randomUUID()}`;
      const late = await client.eval(SET_SESSION, { keys: [key], arguments: [String(Date.now() - 60_000), '{}', '60'] }).catch((e: Error) => e);
      expect(String(late)).toMatch(/DEADLINE/);
      expect(await client.exists(key)).toBe(0);
      const fence = new WriteFence(2_000);
      await fence.sync(client as never);
      // Our clock stepped: every deadline would be 10 s in Redis's past.
      (fence as unknown as { offsetMs: number }).offsetMs -= 10_000;
      await fence.eval(client as never, SET_SESSION, [key], ['{"ok":true}', '60']);
      expect(await client.get(key)).toBe('{"ok":true}');
      await client.del(key);
    } finally {
      await client.close();
    }
  });

  it('createStores picks Redis when a URL is given', async () => {
    const s = await createStores({ redisUrl: url, prefix });
    opened.push(s);
    expect(s.backend).toBe('redis');
    await s.ping();
  });
});

describe('redis stores without a server', () => {
  it('rejects within a few seconds, naming the URL', async () => {
    const deadUrl = `redis://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    await expect(createRedisStores(deadUrl, { prefix })).rejects.toThrow(deadUrl.replace('redis://', ''));
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
