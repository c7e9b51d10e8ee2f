import { createMemoryStores } from './memory-stores.js';
import { createRedisStores } from './redis-stores.js';
import type { StoreOptions, Stores } from './types.js';

export type * from './types.js';
export { createMemoryStores, formatRef } from './memory-stores.js';
export { createRedisStores } from './redis-stores.js';

/** Creates the Redis stores when `redisUrl` is set, the in-memory stores otherwise. */
export async function createStores(opts: { redisUrl?: string } & StoreOptions): Promise<Stores> {
  const { redisUrl, ...options } = opts;
  return redisUrl ? createRedisStores(redisUrl, options) : createMemoryStores(options);
}
