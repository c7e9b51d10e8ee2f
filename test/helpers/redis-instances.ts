import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ChannelAdapter } from '../../src/channels/types.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { createRedisBus, type MessageBus } from '../../src/delivery/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createRedisStores, type Stores } from '../../src/store/index.js';
import { deleteKeys, redisSuite } from './redis.js';

/** One assistant instance on the shared Redis, with the channel it was built with. */
export interface RedisInstance<C extends ChannelAdapter = ChannelAdapter> {
  stores: Stores;
  /** The Redis bus, when the instances were started with `bus: true`. */
  bus?: MessageBus;
  service: ConversationService;
  channel: C;
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` when started with `listen: true`. */
  base?: string;
}

/** What builds each instance's channel. */
export interface InstanceOptions<C extends ChannelAdapter> {
  channel: (deps: { service: ConversationService; stores: Stores; bus?: MessageBus }) => C;
  /** Live delivery between the instances through a Redis bus. */
  bus?: boolean;
  /** Listen on a random port (else the app is only ready for inject). */
  listen?: boolean;
}

/**
 * Instances of the assistant sharing one Redis under a test file's own prefix, like processes behind a load balancer:
 * `suite` is the describe to use (skips with a notice, or fails under CI=true, without Redis); `start` builds one
 * instance; `close` closes them all and deletes the prefix's keys.
 */
export async function redisInstances(label: string, tag: string) {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `wsa-test-${tag}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const suite = await redisSuite(label, url, prefix);
  const logger = createLogger('silent');
  const all: RedisInstance[] = [];
  let shared: { kb: KnowledgeBase; classifier: Classifier } | undefined;
  const knowledge = () => {
    if (!shared) {
      const kb = loadKnowledge('knowledge', 'flows');
      shared = { kb, classifier: createClassifier(kb) };
    }
    return shared;
  };

  return {
    url,
    prefix,
    suite,
    logger,
    knowledge,
    /** Builds and starts one instance. */
    async start<C extends ChannelAdapter>(o: InstanceOptions<C>): Promise<RedisInstance<C>> {
      const { kb, classifier } = knowledge();
      const stores = await createRedisStores(url, { prefix });
      const bus = o.bus ? await createRedisBus(url, { prefix }) : undefined;
      const service = createConversationService({ kb, classifier, stores, logger, ...(bus ? { bus } : {}) });
      const channel = o.channel({ service, stores, ...(bus ? { bus } : {}) });
      const app = await buildServer({ service, stores, logger, channels: [channel] });
      const instance: RedisInstance<C> = { stores, ...(bus ? { bus } : {}), service, channel, app };
      all.push(instance);
      if (o.listen) instance.base = await app.listen({ port: 0, host: '127.0.0.1' });
      else await app.ready();
      return instance;
    },
    /** Closes every instance (app, bus, stores) and deletes the keys under the prefix. */
    async close(): Promise<void> {
      for (const i of all.splice(0)) {
        await i.app.close();
        await i.bus?.close();
        await i.stores.close();
      }
      await deleteKeys(url, prefix);
    },
  };
}
