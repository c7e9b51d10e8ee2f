import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';

/** A free local TCP port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** A redis-server of the test's own, on a random port, without persistence; stop() kills it. */
export interface OwnRedis {
  url: string;
  process: ChildProcess;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const BINARY = '/usr/bin/redis-server';

/** True when a redis-server binary is installed. */
export const hasRedisServer = existsSync(BINARY);

/** Starts redis-server on a free port and waits until it answers PING. */
export async function startRedisServer(): Promise<OwnRedis> {
  const port = await freePort();
  const child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 200 } });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      await probe.close();
      break;
    } catch {
      probe.destroy();
      await sleep(50);
    }
  }
  return {
    url,
    process: child,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}
