import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/index.js';
import type { ApplicationStore, OutboxRecord, OutboxStore } from '../store/index.js';
import { signedHeaders } from './signature.js';

/** What the dispatcher is built from. */
export interface DispatcherOptions {
  outbox: OutboxStore;
  applications: ApplicationStore;
  logger: Logger;
  /** BACKOFFICE_WEBHOOK_URL. */
  url: string;
  /** BACKOFFICE_SECRET. */
  secret: string;
  /** BACKOFFICE_MAX_ATTEMPTS: failed attempts before the entry goes to the dead-letter list. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt, with jitter (default 2 s), up to `maxDelayMs` (default 10 min). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long a claimed entry is ours (default 60 s; longer than `timeoutMs`). */
  leaseMs?: number;
  /** Poll interval when idle (default 1 s). */
  intervalMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Entries claimed per round (default 20). */
  batch?: number;
  /** This instance's lease owner id (default random). */
  owner?: string;
  fetch?: typeof fetch;
}

/** The outcome of one dispatch round. */
export interface DispatchRound {
  delivered: number;
  retried: number;
  dead: number;
}

/** Sends outbox entries to the back office, one instance per entry at a time. */
export interface Dispatcher {
  /** Starts polling (unref'd timer). */
  start(): void;
  /** Stops polling and waits for the round in flight. */
  stop(): Promise<void>;
  /** Claims and sends what is due now. */
  runOnce(): Promise<DispatchRound>;
}

/** The body the back office receives: entry id (its idempotency key), kind, creation time, attempt number and the data. */
export interface OutboxDelivery {
  id: string;
  kind: OutboxRecord['kind'];
  createdAt: string;
  attempt: number;
  data: unknown;
}

/** 4xx answers other than these mean the request itself is wrong: retrying would not help. */
const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

class Permanent extends Error {}

/** Exponential backoff with equal jitter: half the doubled delay fixed, half random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}

/** Creates the outbox dispatcher (at-least-once: the back office dedupes by the entry id, also sent as Idempotency-Key). */
export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const owner = o.owner ?? `dispatcher-${randomUUID()}`;
  const base = o.baseDelayMs ?? 2_000;
  const maxDelay = o.maxDelayMs ?? 600_000;
  const leaseMs = o.leaseMs ?? 60_000;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const doFetch = o.fetch ?? fetch;
  const log = o.logger.child({ area: 'backoffice' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;

  async function dataOf(r: OutboxRecord): Promise<unknown> {
    if (r.kind !== 'application') return r.payload;
    const app = await o.applications.get(String(r.payload.ref));
    if (!app) throw new Permanent(`application ${String(r.payload.ref)} no longer stored`);
    return app;
  }

  async function deliver(r: OutboxRecord): Promise<void> {
    const body = JSON.stringify({ id: r.id, kind: r.kind, createdAt: r.createdAt, attempt: r.attempts + 1, data: await dataOf(r) } satisfies OutboxDelivery);
    let res: Response;
    try {
      res = await doFetch(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': r.id, ...signedHeaders(o.secret, body) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(`network: ${(err as Error).message}`.slice(0, 200));
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return;
    const why = `HTTP ${res.status}`;
    if (res.status >= 400 && res.status < 500 && !RETRYABLE_4XX.has(res.status)) throw new Permanent(why);
    throw new Error(why);
  }

  async function one(r: OutboxRecord, round: DispatchRound): Promise<void> {
    try {
      await deliver(r);
      if (await o.outbox.delivered(r.id, owner)) {
        round.delivered++;
        log.info({ outboxId: r.id, kind: r.kind, attempt: r.attempts + 1 }, 'outbox entry delivered');
      }
    } catch (err) {
      const attempts = r.attempts + 1;
      const error = (err as Error).message;
      const dead = err instanceof Permanent || attempts >= o.maxAttempts;
      const retryAt = dead ? null : Date.now() + backoffDelay(attempts, base, maxDelay);
      if (!(await o.outbox.failed(r.id, owner, error, retryAt).catch(() => false))) return;
      if (dead) {
        round.dead++;
        log.error({ outboxId: r.id, kind: r.kind, attempts, error }, 'outbox entry moved to the dead-letter list');
      } else {
        round.retried++;
        log.warn({ outboxId: r.id, kind: r.kind, attempts, error, retryInMs: retryAt! - Date.now() }, 'outbox delivery failed; will retry');
      }
    }
  }

  async function runOnce(): Promise<DispatchRound> {
    const round: DispatchRound = { delivered: 0, retried: 0, dead: 0 };
    const claimed = await o.outbox.claim(owner, leaseMs, o.batch ?? 20);
    await Promise.all(claimed.map((r) => one(r, round)));
    return round;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      const p = runOnce().then(
        (r) => r.delivered + r.retried + r.dead,
        (err: unknown) => {
          log.warn({ err: (err as Error).message }, 'outbox round failed');
          return 0;
        },
      );
      running = p;
      // A full round may have left more due entries: go again at once.
      void p.then((n) => schedule(n >= (o.batch ?? 20) ? 0 : (o.intervalMs ?? 1_000)));
    }, ms);
    timer.unref();
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    runOnce,
  };
}
