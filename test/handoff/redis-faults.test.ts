/**
 * The handoff on a redis-server of its own (random free port, AOF in a temp dir), so the shared Redis is never
 * stopped: a Redis that is down or hung answers 503 quickly, and after a restart nothing is lost.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentClient, startInstance, WidgetUser, type Instance } from '../agent/harness.js';

const BINARY = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
const available = BINARY !== '' && existsSync(BINARY);
const dir = mkdtempSync(join(tmpdir(), 'wsa-handoff-redis-'));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
    });
    if (up) return child;
    await sleep(100);
  }
  throw new Error('redis-server did not start');
}

const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null) return;
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
};

if (!available) {
  if (process.env.CI === 'true') describe('handoff Redis faults', () => it('needs redis-server', () => { throw new Error('redis-server is required under CI=true'); }));
  else console.warn('\n⚠ redis-server not found: skipping the handoff Redis fault tests (set CI=true to fail instead).\n');
}

describe.runIf(available)('handoff when Redis is down, hung, or restarted (own redis-server)', () => {
  const children: ChildProcess[] = [];
  let a: Instance | undefined;
  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 STORE_UNAVAILABLE within seconds while Redis is hung or down, and loses nothing across its restart', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    children.push(redis);
    a = await startInstance({ redis: { url: `redis://127.0.0.1:${port}`, prefix: 'faults' } });
    await a.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const agent = new AgentClient(a.url);
    await agent.login('agent.a', 'password-a-1');
    const user = new WidgetUser(a.url);
    await user.start();
    await user.say('转人工');
    const item = (await agent.call('GET', '/api/v1/agent/queue')).body.items[0];
    expect(item.status).toBe('queued');

    redis.kill('SIGSTOP');
    let t0 = Date.now();
    const hung = await agent.call('GET', '/api/v1/agent/queue');
    expect([hung.status, hung.body.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(Date.now() - t0).toBeLessThan(8_000);
    redis.kill('SIGCONT');
    await stop(redis);

    t0 = Date.now();
    const down = await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    expect([down.status, down.body.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(Date.now() - t0).toBeLessThan(5_000);

    redis = await startRedis(port);
    children.push(redis);
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
