import { evalScript, type RedisClient } from './redis-client.js';

type Callback = (err: Error | null, result?: unknown) => void;

/**
 * The ioredis surface @fastify/rate-limit's RedisStore uses (`defineCommand` then `client[name](key, …args, cb)`),
 * on node-redis, so instances share rate-limit counts in Redis mode. Keys become `<prefix>:rate-limit:<plugin key>`.
 */
export function rateLimitAdapter(client: RedisClient, prefix: string): Record<string, unknown> {
  const adapter: Record<string, unknown> = {
    defineCommand(name: string, def: { lua: string }) {
      adapter[name] = (key: string, ...rest: unknown[]) => {
        const cb = rest.pop() as Callback;
        evalScript(client, def.lua, [`${prefix}:rate-limit:${key}`], rest.map(String)).then(
          (r) => cb(null, (r as unknown[]).map(Number)),
          (e: Error) => cb(e),
        );
      };
    },
  };
  return adapter;
}
