import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from './config.js';
import { createConversationService, type ConversationService } from './conversation/index.js';
import { createLogger, type Logger } from './core/index.js';
import { loadKnowledge, type KnowledgeBase } from './knowledge/index.js';
import { createClassifier, createEmbedder, DenseIndex, denseDocs, type Classifier } from './nlu/index.js';
import { buildServer } from './server/index.js';
import { loadFieldCipher } from './privacy/index.js';
import { createStores, startPurgeJob, type Stores } from './store/index.js';

/** Everything the assistant is made of, wired together. */
export interface Assistant {
  config: Config;
  logger: Logger;
  kb: KnowledgeBase;
  classifier: Classifier;
  stores: Stores;
  service: ConversationService;
}

/** The composition root: builds the assistant from configuration. */
export async function createAssistant(config: Config = loadConfig(), logger: Logger = createLogger(config.LOG_LEVEL)): Promise<Assistant> {
  const kb = loadKnowledge(config.KNOWLEDGE_DIR, config.FLOWS_DIR);
  const classifier = createClassifier(kb);
  const embedder = await createEmbedder({ model: config.EMBEDDING_MODEL, allowDownload: config.EMBEDDING_ALLOW_DOWNLOAD, cacheDir: config.EMBEDDING_CACHE_DIR, log: (m) => logger.info(m) });
  const dense = embedder ? await DenseIndex.build(embedder, denseDocs(kb), { dir: config.EMBEDDING_CACHE_DIR, knowledgeHash: kb.hash }) : undefined;
  if (embedder) logger.info({ model: embedder.model }, 'dense retrieval fused with lexical ranking');
  const stores = await openStores(config, logger);
  const service = createConversationService({ kb, classifier, stores, logger, dense });
  logger.info({ items: kb.items.size, flows: kb.flows.size, store: stores.backend }, 'assistant ready');
  return { config, logger, kb, classifier, stores, service };
}

/** The stores the configuration names (Redis, SQLite or memory), with personal data encrypted under DATA_KEY. */
export async function openStores(config: Config, logger: Logger): Promise<Stores> {
  const cipher = loadFieldCipher({ dataKey: config.DATA_KEY, oldKeys: config.DATA_KEYS_OLD, nodeEnv: config.NODE_ENV, dataDir: config.DATA_DIR, warn: (m) => logger.warn(m) });
  return createStores({
    redisUrl: config.REDIS_URL,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
    store: config.STORE,
    dataDir: config.DATA_DIR,
    prefix: config.REDIS_PREFIX,
    ttlSeconds: config.SESSION_TTL_SECONDS,
    transcriptTtlSeconds: config.TRANSCRIPT_RETENTION_DAYS * 86_400,
    applicationRetentionDays: config.APPLICATION_RETENTION_DAYS,
    lockLeaseMs: config.LOCK_LEASE_MS,
    maxConversations: config.MEMORY_MAX_CONVERSATIONS,
    attempts: { max: config.LOOKUP_MAX_FAILURES, lockMs: config.LOOKUP_LOCK_MINUTES * 60_000 },
    cipher,
  });
}

async function main(): Promise<void> {
  const assistant = await createAssistant();
  const { config, logger, stores, service } = assistant;
  const app = await buildServer({ service, stores, logger, rateLimitMax: config.RATE_LIMIT_MAX, trustProxy: config.TRUST_PROXY, hotline: assistant.kb.utility.hotline });
  const stopPurge = startPurgeJob(stores, config.PURGE_INTERVAL_MS, logger);
  const close = async () => {
    stopPurge();
    await app.close();
    await stores.close();
    process.exit(0);
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(`${assistant.kb.utility.hotline} assistant listening on ${address} (POST /api/v1/conversations)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
