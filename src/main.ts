import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from './config.js';
import { addConfiguredChannels, createChannelRegistry, reportChannels, type ChannelRegistry } from './channels/index.js';
import { createConversationService, maskerFor, type ConversationService } from './conversation/index.js';
import { agentConsole } from './agent/index.js';
import { createHandoff, type HandoffArea } from './handoff/index.js';
import { createLogger, type Logger } from './core/index.js';
import { createBus, type MessageBus } from './delivery/index.js';
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
  bus: MessageBus;
  service: ConversationService;
  channels: ChannelRegistry;
  handoff: HandoffArea;
}

/** The composition root: builds the assistant from configuration. */
export async function createAssistant(config: Config = loadConfig(), given?: Logger): Promise<Assistant> {
  const kb = loadKnowledge(config.KNOWLEDGE_DIR, config.FLOWS_DIR);
  // Built after the knowledge, so log lines mask 户号 in the utility's own format too.
  const logger = given ?? createLogger(config.LOG_LEVEL, { mask: maskerFor(kb) });
  const classifier = createClassifier(kb);
  const embedder = await createEmbedder({ model: config.EMBEDDING_MODEL, allowDownload: config.EMBEDDING_ALLOW_DOWNLOAD, cacheDir: config.EMBEDDING_CACHE_DIR, log: (m) => logger.info(m) });
  const dense = embedder ? await DenseIndex.build(embedder, denseDocs(kb), { dir: config.EMBEDDING_CACHE_DIR, knowledgeHash: kb.hash }) : undefined;
  if (embedder) logger.info({ model: embedder.model }, 'dense retrieval fused with lexical ranking');
  const stores = await openStores(config, logger);
  const bus = await createBus({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger });
  const channels = createChannelRegistry();
  const handoff = await createHandoff({
    backend: config.REDIS_URL ? { kind: 'redis', url: config.REDIS_URL, prefix: config.REDIS_PREFIX } : { kind: 'sqlite', dir: config.HANDOFF_DATA_DIR },
    kb, knowledgeDir: config.KNOWLEDGE_DIR, stores, bus, logger, mask: maskerFor(kb),
    settings: { maxWaitS: config.HANDOFF_MAX_WAIT_S, claimGraceS: config.HANDOFF_CLAIM_GRACE_S, avgHandleS: config.HANDOFF_AVG_HANDLE_S, sessionTtlS: config.AGENT_SESSION_TTL_S },
  });
  const service = createConversationService({ kb, classifier, stores, logger, dense, bus, channels, middleware: handoff.middleware, effects: handoff.effects, flowAbandonMinutes: config.FLOW_ABANDON_MINUTES });
  handoff.attach(service);
  addConfiguredChannels(channels, { config, service, bus, stores, logger, kb });
  logger.info({ items: kb.items.size, flows: kb.flows.size, store: stores.backend }, 'assistant ready');
  return { config, logger, kb, classifier, stores, bus, service, channels, handoff };
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
  const { config, logger, stores, service, channels, bus, kb, handoff, classifier } = assistant;
  const consolePlugin = agentConsole({ handoff: handoff.service, kb, classifier, stores, bus, sessionSecret: config.AGENT_SESSION_SECRET, sessionTtlS: config.AGENT_SESSION_TTL_S, secureCookie: config.AGENT_COOKIE_SECURE, loginRateMax: config.AGENT_LOGIN_RATE_MAX, heartbeatMs: Math.min(5_000, (config.HANDOFF_CLAIM_GRACE_S * 1000) / 3) });
  const app = await buildServer({ service, stores, logger, rateLimitMax: config.RATE_LIMIT_MAX, channels: channels.list(), plugins: [consolePlugin], trustProxy: config.TRUST_PROXY, hotline: kb.utility.hotline });
  await handoff.start();
  reportChannels(channels, logger);
  const stopPurge = startPurgeJob(stores, config.PURGE_INTERVAL_MS, logger);
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    stopPurge();
    await channels.stopAll(logger);
    await app.close();
    await handoff.close();
    await bus.close();
    await stores.close();
    process.exit(0);
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(`${kb.utility.shortName} assistant listening on ${address}: demo page at /, API at /api/v1/conversations`);
  // Long polling and webhook set-up run in the background: a platform that does not answer never blocks the server.
  void channels.startAll(logger);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
