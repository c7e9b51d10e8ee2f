import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConversationService } from '../../src/conversation/index.js';
import { AppError, createLogger } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createRedisStores, type Stores, type TurnCommit } from '../../src/store/index.js';
import { ownRedisSuite, startRedisServer, type OwnRedis } from '../helpers/redis-server.js';

const TIMEOUT = 500;
// Time allowed beyond the timeout: event-loop and scheduling slack on a busy 2-core machine.
const MARGIN = 700;
const LEASE = 1_000;

const suite = ownRedisSuite('Redis pause');

/** How long a promise takes to settle, and how. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const started = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

suite('a paused or lost Redis', () => {
  let redis: OwnRedis;
  let stores: Stores;
  let kb: KnowledgeBase;
  let app: FastifyInstance;
  const prefix = `wsa-pause-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    redis = await startRedisServer();
    stores = await createRedisStores(redis.url, { prefix, timeoutMs: TIMEOUT, lockLeaseMs: LEASE, lockTimeoutMs: 5_000 });
    kb = loadKnowledge();
    const logger = createLogger('silent');
    const service = createConversationService({ kb, classifier: createClassifier(kb), stores, logger });
    app = await buildServer({ service, stores, logger, hotline: kb.utility.hotline });
  });

  afterAll(async () => {
    redis?.resume();
    await app?.close();
    await stores?.close();
    await redis?.stop();
  });

  it('fails store calls, turns and /readyz within the timeout while paused, and applies none of them after resuming', async () => {
    const start = await app.inject({ method: 'POST', url: '/api/v1/conversations' });
    const { conversationId, token } = start.json() as { conversationId: string; token: string };
    const headers = { authorization: `Bearer ${token}` };
    const before = (await stores.transcripts.list(conversationId)).length;
    const id = `paused-${randomUUID()}`;
    const commit: TurnCommit = {
      conversationId: id,
      session: { schemaVersion: 1, state: { step: 1 }, updatedAt: new Date().toISOString() },
      messages: [{ from: 'user', text: '是', at: new Date().toISOString() }],
      applications: [],
      clientMessageId: 'cm-1',
    };

    redis.pause();
    try {
      const [read, write, turn, ready, message] = await Promise.all([
        timed(stores.sessions.get(id)),
        timed(stores.sessions.set(id, commit.session)),
        timed(stores.commitTurn(commit)),
        timed(app.inject({ method: 'GET', url: '/readyz' })),
        timed(app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/messages`, payload: { text: '是' }, headers })),
      ]);
      for (const r of [read, write, turn]) {
        expect(r.error).toBeInstanceOf(AppError);
        expect((r.error as AppError).code).toBe('STORE_UNAVAILABLE');
        expect(r.ms).toBeLessThan(TIMEOUT + MARGIN);
      }
      expect(ready.value!.statusCode).toBe(503);
      expect(ready.ms).toBeLessThan(TIMEOUT + MARGIN);
      expect(message.value!.statusCode).toBe(503);
      expect(message.ms).toBeLessThan(TIMEOUT + MARGIN);
      // What the user sees: polite, in Chinese, naming the hotline from utility.yaml.
      expect(message.value!.json()).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: `系统繁忙，请稍后再试或拨打 ${kb.utility.hotline}` } });
      // Longer than every write deadline, so a queued write would have its chance to apply on resume.
      await sleep(TIMEOUT + 300);
    } finally {
      redis.resume();
    }
    await sleep(300);
    expect(await stores.sessions.get(id)).toBeNull();
    expect(await stores.transcripts.list(id)).toEqual([]);
    expect(await stores.findTurn(id, 'cm-1')).toBeNull();
    expect(await stores.transcripts.list(conversationId)).toHaveLength(before);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    // And the retry the user makes now is applied once.
    const retry = await app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/messages`, payload: { text: '是' }, headers });
    expect(retry.statusCode).toBe(200);
    const users = (await stores.transcripts.list(conversationId)).filter((m) => m.from === 'user');
    expect(users.map((m) => m.text)).toEqual(['是']);
  });

  it('frees the lock of a holder killed with SIGKILL within the lease', async () => {
    const key = `killed-${randomUUID()}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/lock-holder.ts', redis.url, prefix, key, String(LEASE)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    // While the holder lives, the lock is busy.
    const quick = await createRedisStores(redis.url, { prefix, timeoutMs: TIMEOUT, lockLeaseMs: LEASE, lockTimeoutMs: 300 });
    await expect(quick.locks.withLock(key, async () => 'no')).rejects.toMatchObject({ code: 'CONVERSATION_BUSY' });
    await quick.close();
    child.kill('SIGKILL');
    const killedAt = Date.now();
    const got = await timed(stores.locks.withLock(key, async () => 'mine'));
    expect(got.value).toBe('mine');
    expect(Date.now() - killedAt).toBeLessThan(LEASE + MARGIN);
  });

  it('refuses the commit of a holder that stalled past its lease, while the next holder runs', async () => {
    const id = `stalled-${randomUUID()}`;
    const commit: TurnCommit = {
      conversationId: id,
      session: { schemaVersion: 1, state: { by: 'stalled' }, updatedAt: new Date().toISOString() },
      messages: [{ from: 'user', text: '是', at: new Date().toISOString() }],
      applications: [],
    };
    // The other instance is another process in production; here it shares the blocked event loop, so its
    // in-flight commands get a timeout longer than the stall.
    const other = await createRedisStores(redis.url, { prefix, timeoutMs: 5_000, lockLeaseMs: LEASE });
    try {
      let next: Promise<string> | undefined;
      const stalled = stores.locks.withLock(id, async () => {
        next = other.locks.withLock(id, async () => 'next ran');
        // The event loop is blocked: no lease renewal, as in a long GC pause or a SIGSTOPped instance.
        const until = Date.now() + LEASE + 400;
        while (Date.now() < until);
        await sleep(50);
        return stores.commitTurn(commit);
      });
      await expect(stalled).rejects.toMatchObject({ code: "CONVERSATION_BUSY" });
      expect(await next).toBe('next ran');
      expect(await stores.sessions.get(id)).toBeNull();
      expect(await stores.transcripts.list(id)).toEqual([]);
      // Under a live lock the same commit goes through.
      const ok = await stores.locks.withLock(id, () => stores.commitTurn(commit));
      expect(ok.map((m) => m.text)).toEqual(['是']);
    } finally {
      await other.close();
    }
  });

  it('serves waiters from two instances in arrival order', async () => {
    const other = await createRedisStores(redis.url, { prefix, timeoutMs: TIMEOUT, lockLeaseMs: LEASE });
    const probe = createClient({ url: redis.url });
    await probe.connect();
    try {
      const key = `fair-${randomUUID()}`;
      const order: number[] = [];
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      // The lock's queue of tickets (`<prefix>:lock:<key>`): a caller has arrived once its ticket is in it.
      const queued = () => probe.zCard(`${prefix}:lock:${key}`);
      const holder = stores.locks.withLock(key, () => gate);
      await expect.poll(queued, { timeout: 5_000, interval: 5 }).toBe(1);
      const waiters: Promise<void>[] = [];
      for (let i = 0; i < 8; i++) {
        const s = i % 2 ? other : stores;
        waiters.push(s.locks.withLock(key, async () => void order.push(i)));
        // Each waiter has its ticket before the next arrives (a fixed sleep is not enough on a loaded machine).
        await expect.poll(queued, { timeout: 5_000, interval: 5 }).toBe(i + 2);
      }
      open();
      await holder;
      await Promise.all(waiters);
      expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await probe.quit();
      await other.close();
    }
  });
});
