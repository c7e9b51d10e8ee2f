import { createMemoryStores } from './memory-stores.js';
import { createRedisStores } from './redis-stores.js';
import { createSqliteStores } from './sqlite-stores.js';
import type { StoreOptions, Stores } from './types.js';

export type * from './types.js';
export { createMemoryStores, formatRef } from './memory-stores.js';
export { createRedisStores } from './redis-stores.js';
export { createSqliteStores, type SqliteStoreOptions } from './sqlite-stores.js';
export { createGroupCommit, type GroupCommit } from './sqlite-group-commit.js';
export { startPurgeJob } from './purge-job.js';

/** Which backend to build and where it lives. */
export interface CreateStoresOptions extends StoreOptions {
  /** REDIS_URL: when set, Redis (several instances). */
  redisUrl?: string;
  /** REDIS_TIMEOUT_MS: connect and command timeout. */
  redisTimeoutMs?: number;
  /** STORE: `sqlite` (the embedded default) or `memory` (tests); ignored when redisUrl is set. */
  store?: 'sqlite' | 'memory';
  /** DATA_DIR for SQLite. */
  dataDir?: string;
}

/** Redis when `redisUrl` is set; otherwise SQLite under `dataDir` (default), or memory when `store` is `memory`. */
export async function createStores(opts: CreateStoresOptions): Promise<Stores> {
  const { redisUrl, redisTimeoutMs, store, dataDir, ...options } = opts;
  if (redisUrl) return createRedisStores(redisUrl, { ...options, ...(redisTimeoutMs ? { timeoutMs: redisTimeoutMs } : {}) });
  if (store === 'memory') return createMemoryStores(options);
  return createSqliteStores({ ...options, dataDir: dataDir ?? '.data' });
}
