/**
 * The Redis bus when Redis hangs or restarts, on a redis-server of its own (random free port), so the shared
 * Redis is never paused. A hung Redis must not hold a turn; after a restart delivery resumes by itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { createRedisBus, type MessageBus } from '../../src/delivery/index.js';
import { loadKnowledge } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { ownRedisSuite, startRedisServer, type OwnRedis } from '../helpers/redis-server.js';

ownRedisSuite('redis bus faults')('redis bus faults (own redis-server)', () => {
  const servers: OwnRedis[] = [];
  const buses: MessageBus[] = [];
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    await Promise.all(servers.map((r) => r.stop()));
  });

  it('a hung Redis fails a publish within the timeout, and the turn still completes', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const bus = await createRedisBus(redis.url, { prefix: 'faults', publishTimeoutMs: 500 });
    buses.push(bus);
    const kb = loadKnowledge('knowledge', 'flows');
    const service = createConversationService({ kb, classifier: createClassifier(kb), stores: createMemoryStores(), logger: createLogger('silent'), bus });
    const { conversationId } = await service.start();

    redis.pause();
    try {
      const t0 = Date.now();
      await expect(bus.publish('x', [{ seq: 1, from: 'bot', at: '', text: 'hi' }])).rejects.toThrow(/timed out/);
      expect(Date.now() - t0).toBeLessThan(1_500);
      const t1 = Date.now();
      const r = await service.send(conversationId, { text: '营业厅几点上班' });
      expect(r.messages.length).toBeGreaterThan(0);
      expect(Date.now() - t1).toBeLessThan(2_500);
      expect((await service.history(conversationId)).length).toBe(2 + r.messages.length);
    } finally {
      redis.resume();
    }
  });

  it('resumes delivery by itself after Redis restarts', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const { url } = redis;
    const [a, b] = [await createRedisBus(url, { prefix: 'faults' }), await createRedisBus(url, { prefix: 'faults' })];
    buses.push(a, b);
    const got: Message[][] = [];
    b.subscribe('c1', (m) => got.push(m));
    await sleep(100);
    await a.publish('c1', [{ seq: 1, from: 'bot', at: '', text: 'before' }]);
    await sleep(100);
    expect(got.map((m) => m[0]!.text)).toEqual(['before']);

    await redis.stop();
    await expect(a.publish('c1', [{ seq: 2, from: 'bot', at: '', text: 'while down' }])).rejects.toThrow();
    await redis.restart();
    // Both connections reconnect with backoff and the subscriber subscribes again.
    const deadline = Date.now() + 8_000;
    while (Date.now() < deadline && !got.some((m) => m[0]!.text === 'after')) {
      await a.publish('c1', [{ seq: 3, from: 'bot', at: '', text: 'after' }]).catch(() => undefined);
      await sleep(200);
    }
    expect(got.map((m) => m[0]!.text)).toContain('after');
  }, 15_000);
});
