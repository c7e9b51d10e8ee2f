export type { MessageBus } from './types.js';
export { createMemoryBus } from './memory-bus.js';
export { createRedisBus, type RedisBusOptions } from './redis-bus.js';
import type { Logger } from '../core/index.js';
import { createMemoryBus } from './memory-bus.js';
import { createRedisBus } from './redis-bus.js';
import type { MessageBus } from './types.js';

/** The bus for a backend: Redis pub/sub when `redisUrl` is set, the in-process emitter otherwise. */
export async function createBus(opts: { redisUrl?: string; prefix?: string; logger?: Logger }): Promise<MessageBus> {
  return opts.redisUrl ? createRedisBus(opts.redisUrl, { prefix: opts.prefix, logger: opts.logger }) : createMemoryBus();
}
