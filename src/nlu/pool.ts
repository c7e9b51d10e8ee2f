import { Worker } from 'node:worker_threads';
import type { Classifier, Understanding } from './classifier.js';

/**
 * Classification off the event loop: worker threads that each hold their own classifier, built from the same
 * knowledge folders. The event loop then serves HTTP, stores and sockets while a message is being understood.
 */
export interface ClassifierPool {
  /** The understanding of `text` from a worker; null when none can take it now (busy, starting, stale, failed). */
  classify(text: string): Promise<Understanding | null>;
  /** The knowledge changed on disk: workers are rebuilt, and serve only once they hold `hash`. */
  reload(hash: string): void;
  /** How many requests the workers answered, and how many were declined or lost (the caller classified those). */
  stats(): { served: number; declined: number };
  /** Resolves true once every worker holds the expected knowledge, false after `timeoutMs`. */
  whenReady(timeoutMs?: number): Promise<boolean>;
  /** Stops the workers; pending requests resolve to null. */
  close(): Promise<void>;
}

/** Pool settings. */
export interface PoolOptions {
  workers: number;
  knowledgeDir: string;
  flowsDir: string;
  /** The knowledge hash the caller's own classifier holds: a worker on another version is not asked. */
  hash: string;
  /** Requests waiting per worker beyond which the caller classifies itself; default DEFAULT_MAX_QUEUE. */
  maxQueue?: number;
  /** A request not answered in this time resolves to null (a hung worker cannot hang a turn). */
  timeoutMs?: number;
  log?: (msg: string, err?: unknown) => void;
}

interface Slot {
  worker: Worker;
  hash: string | null;
  pending: Map<number, { resolve: (u: Understanding | null) => void; at: number }>;
}

const RESPAWN_MS = 1000;

/**
 * Requests a worker may hold. Deep enough that the worker never waits for the event loop: under load the event loop
 * is the busy thread and reads the worker's answers late, so with a queue of 2 the worker idled and the event loop
 * classified most messages itself (bench:api, one worker: 575 msg/s at 8, 970 at 32). At ≈ 0.7 ms a message, 32
 * waiting is ≈ 22 ms at worst.
 */
export const DEFAULT_MAX_QUEUE = 32;

/** Starts `workers` classifier threads. */
export function createClassifierPool(opts: PoolOptions): ClassifierPool {
  const maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
  const timeoutMs = opts.timeoutMs ?? 2000;
  let expected = opts.hash;
  let closed = false;
  let nextId = 1;
  let served = 0;
  let declined = 0;
  const slots: Slot[] = [];

  const settle = (slot: Slot, id: number, u: Understanding | null) => {
    const p = slot.pending.get(id);
    if (!p) return;
    slot.pending.delete(id);
    if (u) served++;
    else declined++;
    p.resolve(u);
  };
  const drop = (slot: Slot) => {
    for (const id of [...slot.pending.keys()]) settle(slot, id, null);
  };
  const spawn = (): Slot => {
    const worker = newWorker({ knowledgeDir: opts.knowledgeDir, flowsDir: opts.flowsDir });
    const slot: Slot = { worker, hash: null, pending: new Map() };
    worker.unref();
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') slot.hash = m.hash;
      else settle(slot, m.id, m.type === 'understood' ? m.u : null);
    });
    worker.on('error', (err) => opts.log?.('classifier worker failed', err));
    worker.on('exit', () => {
      drop(slot);
      // A worker that died (not one replaced by a reload or stopped by close) is replaced after a pause;
      // meanwhile the caller classifies itself.
      setTimeout(() => {
        const at = slots.indexOf(slot);
        if (!closed && at >= 0) slots[at] = spawn();
      }, RESPAWN_MS).unref();
    });
    return slot;
  };
  for (let i = 0; i < opts.workers; i++) slots.push(spawn());

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const slot of slots) for (const [id, p] of slot.pending) if (now - p.at > timeoutMs) settle(slot, id, null);
  }, Math.max(50, Math.floor(timeoutMs / 4)));
  sweep.unref();

  return {
    classify(text) {
      let best: Slot | null = null;
      for (const s of slots) if (s.hash === expected && s.pending.size < maxQueue && (!best || s.pending.size < best.pending.size)) best = s;
      if (!best || closed) {
        declined++;
        return Promise.resolve(null);
      }
      const id = nextId++;
      const slot = best;
      return new Promise((resolve) => {
        slot.pending.set(id, { resolve, at: Date.now() });
        slot.worker.postMessage({ id, text });
      });
    },
    reload(hash) {
      expected = hash;
      for (let i = 0; i < slots.length; i++) {
        const old = slots[i]!;
        slots[i] = spawn();
        drop(old);
        void old.worker.terminate();
      }
    },
    stats: () => ({ served, declined }),
    async whenReady(waitMs = 30_000) {
      const until = Date.now() + waitMs;
      while (!closed && Date.now() < until) {
        if (slots.length && slots.every((s) => s.hash === expected)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
    async close() {
      closed = true;
      clearInterval(sweep);
      const all = slots.splice(0);
      all.forEach(drop);
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}

/** What a worker posts: ready (with its knowledge hash), an understanding, or a failure for one request. */
export type WorkerMessage = { type: 'ready'; hash: string } | { type: 'understood'; id: number; u: Understanding } | { type: 'failed'; id: number; error: string };

/** The classifier with an async `prefetch`: the understanding of a turn's text is computed by the pool when it can. */
export function pooledClassifier(local: Classifier, pool: ClassifierPool): Classifier {
  return {
    ...local,
    async prefetch(text) {
      const u = await pool.classify(text);
      return u ? classifierFor(local, text, u) : local;
    },
  };
}

/** `local`, except that `text` (with the default thresholds, without dense hits) is understood as `u`. */
function classifierFor(local: Classifier, text: string, u: Understanding): Classifier {
  return { ...local, classify: (t, thresholds, dense) => (t === text && !thresholds && !dense ? { ...u } : local.classify(t, thresholds, dense)) };
}

/** The worker thread: compiled, plain JavaScript; run from source (tsx, vitest), TypeScript through tsx's loader. */
function newWorker(workerData: { knowledgeDir: string; flowsDir: string }): Worker {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof'));
  try {
    return startWorker(workerData, execArgv);
  } catch (err) {
    // Node refuses per-process flags in a worker (--expose-gc, --max-old-space-size, …): it then runs without any.
    if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    return startWorker(workerData, []);
  }
}

function startWorker(workerData: { knowledgeDir: string; flowsDir: string }, execArgv: string[]): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./classify-worker.js', import.meta.url), { workerData, execArgv });
  const entry = new URL('./classify-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData, execArgv });
}
