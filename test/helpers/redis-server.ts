import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { describe, it } from 'vitest';

/** A free local TCP port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** A redis-server of the test's own, on a random port, without persistence unless `aofDir`; stop() kills it. */
export interface OwnRedis {
  url: string;
  port: number;
  /** The running process (a new one after restart()). */
  process: ChildProcess;
  /** SIGSTOP: Redis hangs with its connections open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  stop(): Promise<void>;
  /** Starts it again on the same port with the same options (stop() first). */
  restart(): Promise<void>;
}

/** Where and how the server runs. */
export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** Persist with AOF (fsync always) in this folder, so the data survive stop() and restart(). */
  aofDir?: string;
}

const BINARY = '/usr/bin/redis-server';

/** True when a redis-server binary is installed. */
export const hasRedisServer = existsSync(BINARY);

/** Spawns redis-server and waits until it answers PING. */
async function spawnRedis(port: number, o: RedisServerOptions): Promise<ChildProcess> {
  const persistence = o.aofDir ? ['--dir', o.aofDir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 200 } });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      await probe.close();
      return child;
    } catch {
      probe.destroy();
      await sleep(50);
    }
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

/** Starts redis-server (on a free port unless given) and waits until it answers PING. */
export async function startRedisServer(o: RedisServerOptions = {}): Promise<OwnRedis> {
  const port = o.port ?? (await freePort());
  const own: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: await spawnRedis(port, o),
    pause: () => void own.process.kill('SIGSTOP'),
    resume: () => void own.process.kill('SIGCONT'),
    async stop() {
      const child = own.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    },
    async restart() {
      await own.stop();
      own.process = await spawnRedis(port, o);
    },
  };
  return own;
}

/**
 * The `describe` for a suite needing a redis-server of its own: the real one when the binary is installed; otherwise
 * `describe.skip` with a visible notice, and under CI=true a registered failing test as well.
 */
export function ownRedisSuite(label: string): typeof describe.skip {
  if (hasRedisServer) return describe;
  if (process.env.CI === 'true') {
    describe(label, () => {
      it('needs redis-server', () => {
        throw new Error(`${BINARY} is required under CI=true`);
      });
    });
  }
  else console.warn(`\n⚠ ${BINARY} is absent: skipping the ${label} tests (set CI=true to fail instead).\n`);
  return describe.skip;
}
