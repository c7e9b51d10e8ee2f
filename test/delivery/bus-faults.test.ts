/**
 * The Redis bus when Redis hangs or restarts, on a redis-server of its own (random free port), so the shared
 * Redis is never paused. A hung Redis must not hold a turn; after a restart delivery resumes by itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { createRedisBus, type MessageBus } from '../../src/delivery/index.js';
import { loadKnowledge } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { createMemoryStores } from '../../src/store/index.js';

const BINARY = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
const available = BINARY !== '' && existsSync(BINARY);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Starts redis-server on the port and waits until it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true)); // the port is taken: redis is listening
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
    });
    if (ok) return child;
    await sleep(100);
  }
  throw new Error('redis-server did not start');
}

const stopped = async (child: ChildProcess) => {
  if (child.exitCode !== null) return;
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
};

if (!available) {
  if (process.env.CI === 'true') describe('redis bus faults', () => it('needs redis-server', () => { throw new Error('redis-server is required under CI=true'); }));
  else console.warn('\n⚠ redis-server not found: skipping the Redis bus fault tests (set CI=true to fail instead).\n');
}

describe.runIf(available)('redis bus faults (own redis-server)', () => {
  const children: ChildProcess[] = [];
  const buses: MessageBus[] = [];
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    await Promise.all(children.map(stopped));
  });

  it('a hung Redis fails a publish within the timeout, and the turn still completes', async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    children.push(redis);
    const bus = await createRedisBus(`redis://127.0.0.1:${port}`, { prefix: 'faults', publishTimeoutMs: 500 });
    buses.push(bus);
    const kb = loadKnowledge('knowledge', 'flows');
    const service = createConversationService({ kb, classifier: createClassifier(kb), stores: createMemoryStores(), logger: createLogger('silent'), bus });
    const { conversationId } = await service.start();

    redis.kill('SIGSTOP');
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
      redis.kill('SIGCONT');
    }
  });

  it('resumes delivery by itself after Redis restarts', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    children.push(redis);
    const url = `redis://127.0.0.1:${port}`;
    const [a, b] = [await createRedisBus(url, { prefix: 'faults' }), await createRedisBus(url, { prefix: 'faults' })];
    buses.push(a, b);
    const got: Message[][] = [];
    b.subscribe('c1', (m) => got.push(m));
    await sleep(100);
    await a.publish('c1', [{ seq: 1, from: 'bot', at: '', text: 'before' }]);
    await sleep(100);
    expect(got.map((m) => m[0]!.text)).toEqual(['before']);

    await stopped(redis);
    await expect(a.publish('c1', [{ seq: 2, from: 'bot', at: '', text: 'while down' }])).rejects.toThrow();
    redis = await startRedis(port);
    children.push(redis);
    // Both connections reconnect with backoff and the subscriber subscribes again.
    const deadline = Date.now() + 8_000;
    while (Date.now() < deadline && !got.some((m) => m[0]!.text === 'after')) {
      await a.publish('c1', [{ seq: 3, from: 'bot', at: '', text: 'after' }]).catch(() => undefined);
      await sleep(200);
    }
    expect(got.map((m) => m[0]!.text)).toContain('after');
  }, 15_000);
});
