import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectHandoffRedis, createMemoryHandoffDb, createMemoryHandoffQueue, createRedisHandoffDb, createRedisHandoffQueue, createSqliteHandoffDb, type HandoffDb, type HandoffQueue } from '../../src/handoff/index.js';
import { redisAnswers } from '../helpers/redis.js';
import { redisPrefix } from '../agent/harness.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = redisPrefix(url, 'handoff-db');
const dir = mkdtempSync(join(tmpdir(), 'wsa-handoff-'));
const hasRedis = await redisAnswers(url, keys.prefix);
if (!hasRedis && process.env.CI === 'true') throw new Error(`Redis is required under CI=true, but ${url} did not answer`);
if (!hasRedis) console.warn(`\n⚠ Redis at ${url} did not answer: skipping the Redis handoff backend contract.\n`);
const redis = hasRedis ? await connectHandoffRedis(url) : null;

afterAll(async () => {
  if (redis) {
    await keys.cleanup();
    await redis.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

const dbs: [string, () => HandoffDb][] = [
  ['memory', () => createMemoryHandoffDb()],
  ['sqlite', () => createSqliteHandoffDb(join(dir, `db-${Math.random()}.sqlite`))],
  ...(redis ? ([['redis', () => createRedisHandoffDb(redis, `${keys.prefix}:${Math.random().toString(36).slice(2)}`)]] as [string, () => HandoffDb][]) : []),
];

describe.each(dbs)('HandoffDb on %s', (_name, make) => {
  it('keeps documents, writes once with putNew, expires with a TTL', async () => {
    const db = make();
    expect(await db.get('doc', 'a')).toBeNull();
    await db.put('doc', 'a', { n: 1, text: '水表过户' });
    expect(await db.get('doc', 'a')).toEqual({ n: 1, text: '水表过户' });
    expect(await db.putNew('doc', 'a', { n: 2 })).toBe(false);
    expect(await db.putNew('doc', 'b', { n: 3 })).toBe(true);
    expect(await db.get('doc', 'b')).toEqual({ n: 3 });
    await db.del('doc', 'a');
    expect(await db.get('doc', 'a')).toBeNull();
    await db.put('doc', 'short', 1, 1);
    expect(await db.get('doc', 'short')).toBe(1);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await db.get('doc', 'short')).toBeNull();
  });

  it('orders an index by score, counts, appends lists and serialises work under a lock', async () => {
    const db = make();
    await db.index('idx', 'late', 30);
    await db.index('idx', 'early', 10);
    await db.index('idx', 'mid', 20);
    expect(await db.range('idx')).toEqual(['early', 'mid', 'late']);
    expect(await db.range('idx', 20)).toEqual(['mid', 'late']);
    await db.unindex('idx', 'mid');
    expect(await db.range('idx')).toEqual(['early', 'late']);
    expect([await db.incr('seq', 'day'), await db.incr('seq', 'day')]).toEqual([1, 2]);
    await db.push('list', 'x', { a: 1 });
    await db.push('list', 'x', { a: 2 });
    expect(await db.list('list', 'x')).toEqual([{ a: 1 }, { a: 2 }]);
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => db.withLock('k', async () => {
      order.push(i);
      await new Promise((r) => setTimeout(r, 10));
      order.push(i);
    })));
    expect(order).toEqual([1, 1, 2, 2, 3, 3]);
  });
});

const queues: [string, () => HandoffQueue][] = [
  ['memory', () => createMemoryHandoffQueue()],
  ...(redis ? ([['redis streams', () => createRedisHandoffQueue(redis, `${keys.prefix}:${Math.random().toString(36).slice(2)}`)]] as [string, () => HandoffQueue][]) : []),
];

describe.each(queues)('HandoffQueue on %s', (_name, make) => {
  it('offers urgent first, then oldest; claims move to the agent and back; idle claims are found', async () => {
    const q = make();
    await q.add('h1', 'asked');
    await q.add('h2', 'complaint');
    await q.add('h3', 'urgent');
    await q.add('h4', 'asked');
    await q.add('h1', 'asked'); // twice: once in the queue
    expect((await q.entries()).map((e) => e.handoffId)).toEqual(['h3', 'h2', 'h1', 'h4']);
    await q.assign('h2', 'li.na');
    expect((await q.entries()).find((e) => e.handoffId === 'h2')!.agent).toBe('li.na');
    await new Promise((r) => setTimeout(r, 120));
    await q.touch('li.na', ['h2']);
    expect(await q.idleClaims(100)).toEqual([]);
    await new Promise((r) => setTimeout(r, 150));
    expect(await q.idleClaims(100)).toEqual([{ handoffId: 'h2', priority: 'complaint', agent: 'li.na' }]);
    await q.unassign('h2');
    expect(await q.idleClaims(0)).toEqual([]);
    await q.remove('h3');
    expect((await q.entries()).map((e) => [e.handoffId, e.agent])).toEqual([['h2', null], ['h1', null], ['h4', null]]);
  });
});
