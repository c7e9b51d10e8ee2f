/**
 * The handoff on a redis-server of its own (random free port, AOF in a temp dir), so the shared Redis is never
 * stopped: a Redis that is down or hung answers 503 quickly, and after a restart nothing is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { AgentClient, startInstance, WidgetUser, type Instance } from '../agent/harness.js';
import { ownRedisSuite, startRedisServer, type OwnRedis } from '../helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'wsa-handoff-redis-'));

ownRedisSuite('handoff Redis faults')('handoff when Redis is down, hung, or restarted (own redis-server)', () => {
  let redis: OwnRedis | undefined;
  let a: Instance | undefined;
  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 STORE_UNAVAILABLE within seconds while Redis is hung or down, and loses nothing across its restart', async () => {
    redis = await startRedisServer({ aofDir: dir });
    a = await startInstance({ redis: { url: redis.url, prefix: 'faults' } });
    await a.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const agent = new AgentClient(a.url);
    await agent.login('agent.a', 'password-a-1');
    const user = new WidgetUser(a.url);
    await user.start();
    await user.say('转人工');
    const item = (await agent.call('GET', '/api/v1/agent/queue')).body.items[0];
    expect(item.status).toBe('queued');

    redis.pause();
    let t0 = Date.now();
    const hung = await agent.call('GET', '/api/v1/agent/queue');
    expect([hung.status, hung.body.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(Date.now() - t0).toBeLessThan(8_000);
    redis.resume();
    await redis.stop();

    t0 = Date.now();
    const down = await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    expect([down.status, down.body.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(Date.now() - t0).toBeLessThan(5_000);

    await redis.restart();
    let claim = down;
    for (let i = 0; i < 60 && claim.status !== 200; i++) {
      await sleep(200);
      claim = await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    }
    expect(claim.status, JSON.stringify(claim.body)).toBe(200);
    expect(claim.body.handoff.id).toBe(item.id);
    expect(claim.body.messages.some((m: any) => m.text.includes('转接'))).toBe(true);
  }, 60_000);
});
