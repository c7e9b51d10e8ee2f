import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import { AppError } from '../core/index.js';
import { SharedDeadline } from './redis-deadline.js';

/** The client the stores use: `createClient` without modules or scripts (RESP3 by default). */
export type RedisClient = ReturnType<typeof newClient>;

/** Builds `<prefix>:<kind>:<id>` keys. */
export function keyOf(prefix: string, kind: string, id: string): string {
  return `${prefix}:${kind}:${id}`;
}

/** Runs a Redis call, turning backend failures (offline, timed out, refused) into STORE_UNAVAILABLE (503) with the cause kept. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppError) throw err;
    // A stalled holder whose lease ran out must not write: the conversation may already be someone else's.
    if (err instanceof Error && err.message.startsWith('LOCK_LOST')) throw new AppError('CONVERSATION_BUSY', undefined, { cause: err });
    throw new AppError('STORE_UNAVAILABLE', undefined, { cause: err });
  }
}

/** EXPIRE wants whole seconds of at least 1. */
export function wholeSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Hides a password in a Redis URL before it goes into an error message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Exponential reconnect backoff with jitter, capped at 3 s. */
function reconnectDelay(retries: number): number {
  return Math.min(100 * 2 ** retries, 3_000) + Math.floor(Math.random() * 100);
}

/**
 * A client that rejects commands while disconnected (no offline queue). Commands are bounded by timeBounded below,
 * not by node-redis's command timeout (5 s by default, 0 turns it off): that one creates an AbortSignal.timeout per
 * command and only covers the time before the command is written anyway.
 */
function newClient(url: string, timeoutMs: number) {
  return createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: timeoutMs, reconnectStrategy: reconnectDelay },
  });
}

const shas = new Map<string, string>();

/**
 * Runs a Lua script by its SHA1 (EVALSHA), loading it with EVAL when Redis does not know it yet (NOSCRIPT: first
 * use, or Redis restarted): the script's text is not sent, nor hashed by Redis, on every call.
 */
export async function evalScript(client: RedisClient, script: string, keys: string[], args: string[]): Promise<unknown> {
  let sha = shas.get(script);
  if (!sha) shas.set(script, (sha = createHash('sha1').update(script).digest('hex')));
  try {
    return await client.evalSha(sha, { keys, arguments: args });
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(script, { keys, arguments: args });
  }
}

/**
 * Write deadlines in Redis's clock. A write the client has given up on (timed out while Redis was paused)
 * must not be applied when Redis resumes, so every write script first checks `TIME` against the deadline
 * it was sent with: the client's timeout, less a margin, converted with the clock offset measured at connect.
 */
export class WriteFence {
  private offsetMs = 0;
  constructor(private readonly timeoutMs: number) {}
  /** Measures the Redis clock against ours (one TIME round trip; error ≤ half its duration). */
  async sync(client: RedisClient): Promise<void> {
    const before = Date.now();
    const [sec, micro] = (await client.time()) as unknown as [string | number, string | number];
    const after = Date.now();
    this.offsetMs = Number(sec) * 1000 + Math.floor(Number(micro) / 1000) - (before + after) / 2;
  }
  /**
   * Runs a write script with a fresh deadline as ARGV[1]. A DEADLINE refusal that reaches us before our own
   * timeout means our clock estimate is off (a clock step), or Redis stalled briefly; the write was not applied
   * and we have not given up on it, so re-measure the offset and send it once more.
   */
  async eval(client: RedisClient, script: string, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await evalScript(client, script, keys, [this.deadline(), ...args]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('DEADLINE')) throw err;
      await this.sync(client);
      return evalScript(client, script, keys, [this.deadline(), ...args]);
    }
  }
  /** The latest Redis time at which a write sent now may still be applied. */
  deadline(): string {
    const margin = Math.min(250, Math.floor(this.timeoutMs / 4));
    return String(Math.floor(Date.now() + this.offsetMs + this.timeoutMs - margin));
  }
}

/**
 * The client with every command bounded by `ms`, all commands sharing one deadline timer. node-redis's own command
 * timeout only covers the time before a command is written: once on the socket of a paused (SIGSTOPped) Redis it
 * would wait for the whole outage. The write fence makes sure a write given up on here is not applied when Redis resumes.
 */
function timeBounded(client: RedisClient, ms: number): RedisClient {
  const deadline = new SharedDeadline(ms);
  // Wrapped once per method name, not on every property read (the stores call the client for every command).
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (!fn || (fn as { original?: unknown }).original !== value) {
        const bound = (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? deadline.bound(result) : result;
        };
        fn = Object.assign(bound, { original: value });
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

/** Connects a fail-fast client, or throws naming the URL when Redis does not answer in time. */
export async function connectClient(url: string, timeoutMs: number): Promise<{ client: RedisClient; lastError: () => Error | undefined }> {
  let lastError: Error | undefined;
  let client: RedisClient;
  try {
    client = newClient(url, timeoutMs);
  } catch (err) {
    throw new Error(`Invalid Redis URL ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  // Without a listener, 'error' events would crash the process; reconnects report through here.
  client.on('error', (err: Error) => {
    lastError = err;
  });
  const connecting = client.connect();
  connecting.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([connecting, timeout]);
    return { client: timeBounded(client, timeoutMs), lastError: () => lastError };
  } catch (err) {
    client.destroy();
    const reason = lastError?.message || (err as Error).message;
    throw new Error(`Cannot connect to Redis at ${redactUrl(url)}: ${reason}`, { cause: lastError ?? err });
  } finally {
    clearTimeout(timer);
  }
}
