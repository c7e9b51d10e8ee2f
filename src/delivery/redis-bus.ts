import { createClient } from 'redis';
import type { Logger, Message } from '../core/index.js';
import { SharedDeadline } from '../store/redis-deadline.js';
import type { MessageBus } from './types.js';

/** Options of the Redis bus. */
export interface RedisBusOptions {
  /** Key prefix shared by every instance of one deployment: channels are `<prefix>:deliver:<conversationId>`. */
  prefix?: string;
  logger?: Logger;
  /** Longest wait for the first connection, in ms. */
  connectTimeoutMs?: number;
  /** Longest wait for a publish, in ms: a hung Redis must not hold a turn (clients catch up by seq). */
  publishTimeoutMs?: number;
}

const backoff = (retries: number) => Math.min(100 * 2 ** retries, 3_000) + Math.floor(Math.random() * 100);

// No per-command timeout (node-redis's is an AbortSignal.timeout per command): publishes share one deadline below.
const newClient = (url: string, timeout: number) => createClient({ url, disableOfflineQueue: true, commandOptions: { timeout: 0 }, socket: { connectTimeout: timeout, reconnectStrategy: backoff } });
type BusClient = ReturnType<typeof newClient>;

/**
 * Redis pub/sub delivery, so a reply or an agent message reaches a socket held by another instance.
 * Publishing uses one connection; subscriptions a duplicate of it (a subscribed connection can do nothing else).
 * Redis being down loses live pushes only: clients catch up from the transcript by seq.
 */
export async function createRedisBus(url: string, opts: RedisBusOptions = {}): Promise<MessageBus> {
  const prefix = opts.prefix ?? 'wsa';
  const channelOf = (id: string) => `${prefix}:deliver:${id}`;
  const pattern = `${prefix}:deliver:*`;
  const timeout = opts.connectTimeoutMs ?? 2_000;
  const publishTimeout = opts.publishTimeoutMs ?? 1_000;
  // One timer bounds every pending publish (a timer per publish was measurable CPU under load).
  const publishDeadline = new SharedDeadline(publishTimeout, (ms) => `publish timed out after ${ms} ms`);
  const pub = newClient(url, timeout);
  const sub: BusClient = pub.duplicate();
  let lastError = '';
  for (const c of [pub, sub]) {
    c.on('error', (err: Error) => {
      if (err.message !== lastError) opts.logger?.warn({ err: err.message }, 'delivery bus: Redis error');
      lastError = err.message;
    });
  }
  await Promise.all([connectWithin(pub, timeout, url), connectWithin(sub, timeout, url)]);

  const local = new Map<string, Set<(m: Message[]) => void>>();
  const everyone = new Set<(id: string, m: Message[]) => void>();
  const decode = (raw: string): Message[] | null => {
    try {
      const v = JSON.parse(raw) as unknown;
      return Array.isArray(v) ? (v as Message[]) : null;
    } catch {
      return null;
    }
  };
  const safe = (fn: () => void) => {
    try {
      fn();
    } catch {
      // one broken listener never stops delivery to the others
    }
  };
  const onMessage = (raw: string, channel: string) => {
    const messages = decode(raw);
    if (!messages) return;
    const id = channel.slice(prefix.length + ':deliver:'.length);
    for (const l of local.get(id) ?? []) safe(() => l(structuredClone(messages)));
  };
  const onPattern = (raw: string, channel: string) => {
    const messages = decode(raw);
    if (!messages) return;
    const id = channel.slice(prefix.length + ':deliver:'.length);
    for (const l of everyone) safe(() => l(id, structuredClone(messages)));
  };
  const quietly = (p: Promise<unknown>, what: string) => p.catch((err: Error) => opts.logger?.warn({ err: err.message }, `delivery bus: ${what} failed`));

  return {
    async publish(conversationId, messages) {
      if (!messages.length) return;
      await publishDeadline.bound(pub.publish(channelOf(conversationId), JSON.stringify(messages)));
    },
    subscribe(conversationId, listener) {
      let set = local.get(conversationId);
      if (!set) {
        set = new Set();
        local.set(conversationId, set);
        void quietly(sub.subscribe(channelOf(conversationId), onMessage), 'subscribe');
      }
      set.add(listener);
      return () => {
        const s = local.get(conversationId);
        if (!s?.delete(listener) || s.size) return;
        local.delete(conversationId);
        void quietly(sub.unsubscribe(channelOf(conversationId), onMessage), 'unsubscribe');
      };
    },
    subscribeAll(listener) {
      if (!everyone.size) void quietly(sub.pSubscribe(pattern, onPattern), 'psubscribe');
      everyone.add(listener);
      return () => {
        if (!everyone.delete(listener) || everyone.size) return;
        void quietly(sub.pUnsubscribe(pattern, onPattern), 'punsubscribe');
      };
    },
    async close() {
      local.clear();
      everyone.clear();
      for (const c of [sub, pub]) {
        if (c.isOpen) await c.close().catch(() => c.destroy());
        else c.destroy();
      }
    },
  };
}

/** Connects, or throws naming the URL (without its password) when Redis does not answer in time. */
async function connectWithin(client: BusClient, ms: number, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const connecting = client.connect();
  connecting.catch(() => undefined);
  try {
    await Promise.race([connecting, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]);
  } catch (err) {
    client.destroy();
    throw new Error(`delivery bus cannot connect to Redis at ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
