// Starts the server under load in a child process (./server-child.ts), so the load driver in this process does not
// share its event loop; the assistant gets a fresh temporary data folder, deleted when it stops.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, Target } from './server-child.js';

export type { Target } from './server-child.js';

/** A running server child. */
export interface ServerChild {
  target: Target;
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  address: string;
  /** The child's process.memoryUsage(), asked over IPC; `gc`: after a full collection (needs StartOptions.exposeGc). */
  memory(gc?: boolean): Promise<NodeJS.MemoryUsage>;
  /** Stops the child (disconnect → graceful close; SIGKILL after 10 s) and deletes its data folder. */
  stop(): Promise<void>;
}

/** Options of startServer. */
export interface StartOptions {
  /** Write a V8 CPU profile of the child into this folder. */
  cpuProfileDir?: string;
  /** Start the child with --expose-gc, so memory(true) samples live memory. */
  exposeGc?: boolean;
}

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));

/** Starts a server child and waits until it listens. */
export async function startServer(target: Target, options: StartOptions = {}): Promise<ServerChild> {
  const dataDir = target === 'assistant' ? mkdtempSync(join(tmpdir(), 'wsa-bench-data-')) : undefined;
  const execArgv = [...process.execArgv];
  if (options.exposeGc) execArgv.push('--expose-gc');
  if (options.cpuProfileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  const env = { ...process.env, ...(dataDir ? { DATA_DIR: dataDir, HANDOFF_DATA_DIR: dataDir } : {}) };
  const child = fork(CHILD, [`--serve=${target}`], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const cleanup = () => dataDir && rmSync(dataDir, { recursive: true, force: true });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let address: string;
  try {
    address = await new Promise<string>((resolve, reject) => {
      child.on('message', (m: ChildMessage) => m.type === 'listening' && resolve(m.address));
      child.once('exit', (code) => reject(new Error(`${target} server exited early (code ${code})`)));
    });
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    target,
    child,
    address,
    memory: (gc = false) =>
      new Promise((resolve, reject) => {
        const onMessage = (m: ChildMessage) => {
          if (m.type !== 'memory') return;
          child.off('message', onMessage);
          resolve(m.usage);
        };
        child.on('message', onMessage);
        child.send({ type: 'memory', gc }, (err) => {
          if (!err) return;
          child.off('message', onMessage);
          reject(err);
        });
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        if (child.connected) child.disconnect();
        else child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(kill);
      }
      cleanup();
    },
  };
}
