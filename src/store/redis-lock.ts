import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/index.js';
import { guarded, keyOf, WriteFence, type RedisClient } from './redis-client.js';
import { DROP_TICKET, POLL_TICKET, TAKE_TICKET } from './redis-scripts.js';
import type { LockManager } from './types.js';

// Queue and counter of an idle key vanish after this; tickets are never older than a lock wait.
const IDLE_MS = 10 * 60_000;

/** The lock the current async context holds: a commit inside it is fenced by the ticket's lease. */
const held = new AsyncLocalStorage<{ key: string; ticketKey: string }>();

/** The Redis key of the ticket this context holds for `key`, or '' outside that lock. */
export function heldTicketKey(key: string): string {
  const h = held.getStore();
  return h && h.key === key ? h.ticketKey : '';
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
  ) {}

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const k = this.keys(key);
    const first = await this.take(k);
    const mine = { ticket: first.ticket };
    try {
      await this.wait(k, mine, first.state, deadline);
    } catch (err) {
      await this.drop(k, mine.ticket).catch(() => undefined);
      throw err;
    }
    const { ticket } = mine;
    const renewal = setInterval(() => void this.renew(k, ticket), Math.max(10, Math.floor(this.leaseMs / 3)));
    renewal.unref();
    try {
      return await held.run({ key, ticketKey: k.ticket + ticket }, fn);
    } finally {
      clearInterval(renewal);
      // A failed release must not mask fn's outcome; the lease frees the key anyway.
      await this.drop(k, ticket).catch(() => undefined);
    }
  }

  private keys(key: string) {
    return { queue: keyOf(this.prefix, 'lock', key), counter: keyOf(this.prefix, 'lock-next', key), ticket: `${keyOf(this.prefix, 'lock-ticket', key)}:` };
  }

  /** A new ticket at the back of the queue, and whether it is served already (1) as POLL_TICKET answers. */
  private async take(k: ReturnType<RedisLockManager['keys']>): Promise<{ ticket: string; state: number }> {
    const [n, state] = (await guarded(() =>
      this.fence.eval(this.client, TAKE_TICKET, [k.queue, k.counter], [String(this.leaseMs), k.ticket, String(IDLE_MS)]),
    )) as [number, number];
    return { ticket: String(n), state: Number(state) };
  }

  /** Polls until served (`state` is the last answer); a ticket that expired while we were slow is replaced by a new one at the back. */
  private async wait(k: ReturnType<RedisLockManager['keys']>, held: { ticket: string }, state: number, deadline: number): Promise<void> {
    let delay = 5;
    for (;;) {
      if (state === -1) {
        const again = await this.take(k);
        held.ticket = again.ticket;
        state = again.state;
      }
      if (state === 1) return;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new AppError('CONVERSATION_BUSY');
      await sleep(Math.min(remaining, delay + Math.random() * delay));
      delay = Math.min(delay * 1.5, 50);
      state = Number(await guarded(() => this.client.eval(POLL_TICKET, { keys: [k.queue], arguments: [String(this.leaseMs), k.ticket, held.ticket] })));
    }
  }

  private async renew(k: ReturnType<RedisLockManager['keys']>, ticket: string): Promise<void> {
    await this.client.set(k.ticket + ticket, '1', { condition: 'XX', expiration: { type: 'PX', value: this.leaseMs } }).catch(() => undefined);
  }

  private async drop(k: ReturnType<RedisLockManager['keys']>, ticket: string): Promise<void> {
    await this.client.eval(DROP_TICKET, { keys: [k.queue, k.ticket + ticket], arguments: [ticket] });
  }
}
