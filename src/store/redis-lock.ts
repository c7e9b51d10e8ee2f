import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/index.js';
import { evalScript, guarded, keyOf, WriteFence, type RedisClient } from './redis-client.js';
import { DROP_TICKET, POLL_TICKET, TAKE_TICKET } from './redis-scripts.js';
import type { LockManager } from './types.js';

// Queue and counter of an idle key vanish after this; tickets are never older than a lock wait.
const IDLE_MS = 10 * 60_000;

/** What the lock gives the holder: its lease's key, and the value of the prefetch key read when it was served. */
interface Held {
  key: string;
  ticketKey: string;
  prefetched?: { key: string; value: string | null };
}

/** The lock the current async context holds: a commit inside it is fenced by the ticket's lease. */
const held = new AsyncLocalStorage<Held>();

/** The Redis key of the ticket this context holds for `key`, or '' outside that lock. */
export function heldTicketKey(key: string): string {
  const h = held.getStore();
  return h && h.key === key ? h.ticketKey : '';
}

/**
 * The value of `redisKey` as it was when this context's lock was served (read in the same script), once; undefined
 * when there is none (not the prefetch key, already taken, or outside a lock). Only writers holding the lock change
 * the key, so the value is what a GET now would answer; a write through the store forgets it (forgetPrefetched).
 */
export function takePrefetched(redisKey: string): string | null | undefined {
  const h = held.getStore();
  if (!h?.prefetched || h.prefetched.key !== redisKey) return undefined;
  const { value } = h.prefetched;
  h.prefetched = undefined;
  return value;
}

/** Drops the prefetched value of `redisKey` (it is being written). */
export function forgetPrefetched(redisKey: string): void {
  const h = held.getStore();
  if (h?.prefetched?.key === redisKey) h.prefetched = undefined;
}

/** The served state of a ticket (1 served, 0 waiting, -1 expired) and the prefetch key's value when served. */
interface Served {
  state: number;
  value: string | null;
}

/**
 * A fair distributed lock per key, like Rasa's ticket lock store: each caller INCRs a ticket and joins a
 * sorted queue; the lowest live ticket holds the lock. Every ticket has a short lease (renewed while its
 * owner waits or works), so a crashed holder or waiter is skipped once its lease runs out, and waiters
 * on any number of instances are served in the order they arrived.
 */
export class RedisLockManager implements LockManager {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly timeoutMs = 10_000,
    private readonly leaseMs = 3_000,
    private readonly fence = new WriteFence(2_000),
    /** The Redis key to read when the lock for `key` is served (the conversation's session), handed to the holder. */
    private readonly prefetchKey?: (key: string) => string,
  ) {}

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const k = this.keys(key);
    const first = await this.take(k);
    const mine = { ticket: first.ticket };
    let served: Served;
    try {
      served = await this.wait(k, mine, first, deadline);
    } catch (err) {
      await this.drop(k, mine.ticket).catch(() => undefined);
      throw err;
    }
    const { ticket } = mine;
    const renewal = setInterval(() => void this.renew(k, ticket), Math.max(10, Math.floor(this.leaseMs / 3)));
    renewal.unref();
    const context: Held = { key, ticketKey: k.ticket + ticket, ...(k.prefetch ? { prefetched: { key: k.prefetch, value: served.value } } : {}) };
    try {
      return await held.run(context, fn);
    } finally {
      clearInterval(renewal);
      // A failed release must not mask fn's outcome; the lease frees the key anyway.
      await this.drop(k, ticket).catch(() => undefined);
    }
  }

  private keys(key: string) {
    return {
      queue: keyOf(this.prefix, 'lock', key),
      counter: keyOf(this.prefix, 'lock-next', key),
      ticket: `${keyOf(this.prefix, 'lock-ticket', key)}:`,
      prefetch: this.prefetchKey?.(key) ?? '',
    };
  }

  /** A new ticket at the back of the queue, whether it is served already (1) as POLL_TICKET answers, and the prefetch. */
  private async take(k: ReturnType<RedisLockManager['keys']>): Promise<Served & { ticket: string }> {
    const [n, state, value] = (await guarded(() =>
      this.fence.eval(this.client, TAKE_TICKET, [k.queue, k.counter], [String(this.leaseMs), k.ticket, String(IDLE_MS), k.prefetch]),
    )) as [number, number, string | null];
    return { ticket: String(n), state: Number(state), value: value ?? null };
  }

  /** Polls until served (`last` is the last answer); a ticket that expired while we were slow is replaced by a new one at the back. */
  private async wait(k: ReturnType<RedisLockManager['keys']>, held: { ticket: string }, last: Served, deadline: number): Promise<Served> {
    let delay = 5;
    let answer = last;
    for (;;) {
      if (answer.state === -1) {
        const again = await this.take(k);
        held.ticket = again.ticket;
        answer = again;
      }
      if (answer.state === 1) return answer;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new AppError('CONVERSATION_BUSY');
      await sleep(Math.min(remaining, delay + Math.random() * delay));
      delay = Math.min(delay * 1.5, 50);
      const [state, value] = (await guarded(() => evalScript(this.client, POLL_TICKET, [k.queue], [String(this.leaseMs), k.ticket, held.ticket, k.prefetch]))) as [number, string | null];
      answer = { state: Number(state), value: value ?? null };
    }
  }

  private async renew(k: ReturnType<RedisLockManager['keys']>, ticket: string): Promise<void> {
    await this.client.set(k.ticket + ticket, '1', { condition: 'XX', expiration: { type: 'PX', value: this.leaseMs } }).catch(() => undefined);
  }

  private async drop(k: ReturnType<RedisLockManager['keys']>, ticket: string): Promise<void> {
    await evalScript(this.client, DROP_TICKET, [k.queue, k.ticket + ticket], [ticket]);
  }
}
