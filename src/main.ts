import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { analyticsMiddleware, analyticsRoutes } from './analytics/index.js';
import { mountBackoffice, outboxAdminRoutes } from './backoffice/index.js';
import { loadConfig, type Config } from './config.js';
import { addConfiguredChannels, createChannelRegistry, reportChannels, type ChannelRegistry } from './channels/index.js';
import { createConversationService, maskerFor, type ConversationService } from './conversation/index.js';
import { agentConsole } from './agent/index.js';
import { createHandoff, type HandoffArea } from './handoff/index.js';
import { createLogger, swappableMasker, type Logger } from './core/index.js';
import { createBus, type MessageBus } from './delivery/index.js';
import { loadKnowledge, type KnowledgeBase } from './knowledge/index.js';
import { createRedisKnowledgeSync, watchKnowledge, type KnowledgeWatcher } from './knowledge/reload.js';
import { createClassifier, createClassifierPool, createEmbedder, pooledClassifier, DenseIndex, denseDocs, type Classifier, type ClassifierPool, type Embedder } from './nlu/index.js';
import { createInFlightTurns, metrics as processMetrics, metricsRoutes, observedClassifier, observeTurn, outcomeCounter, startMetricsServer, type InFlightTurns, type Metrics } from './observability/index.js';
import { buildServer } from './server/index.js';
import { gracefulShutdown, type ShutdownHook } from './server/shutdown.js';
import { loadFieldCipher, type FieldCipher } from './privacy/index.js';
import { createStores, startPurgeJob, type Stores } from './store/index.js';

export { gracefulShutdown, type ShutdownHook } from './server/shutdown.js';

/** Everything the assistant is made of, wired together. */
export interface Assistant {
  config: Config;
  logger: Logger;
  kb: KnowledgeBase;
  /** The classifier worker threads (NLU_WORKERS), or null when the event loop classifies. */
  classifierPool: ClassifierPool | null;
  classifier: Classifier;
  stores: Stores;
  bus: MessageBus;
  service: ConversationService;
  channels: ChannelRegistry;
  handoff: HandoffArea;
  metrics: Metrics;
  /** Turns in progress (the shutdown waits for them). */
  inFlight: InFlightTurns;
  /** Steps the graceful shutdown runs after in-flight turns, in order, each bounded by the grace. */
  readonly shutdownHooks: ShutdownHook[];
  /** Adds a shutdown step (the handoff module releases its claims here). */
  onShutdown(hook: ShutdownHook): void;
  /** Builds the classifier (and dense index) for an already validated knowledge base and swaps it into the service. */
  swapKnowledge(kb: KnowledgeBase): Promise<void>;
}

/** The composition root: builds the assistant from configuration. */
export async function createAssistant(config: Config = loadConfig(), given?: Logger, metrics: Metrics = processMetrics): Promise<Assistant> {
  const kb = loadKnowledge(config.KNOWLEDGE_DIR, config.FLOWS_DIR);
  // Built after the knowledge, so log lines mask 户号 in the utility's own format too (swapped on a reload).
  const mask = swappableMasker(maskerFor(kb));
  const logger = given ?? createLogger(config.LOG_LEVEL, { mask });
  const pool = config.NLU_WORKERS > 0 ? createClassifierPool({ workers: config.NLU_WORKERS, knowledgeDir: config.KNOWLEDGE_DIR, flowsDir: config.FLOWS_DIR, hash: kb.hash, log: (m, err) => logger.warn({ err }, m) }) : null;
  const classifierFor = (k: KnowledgeBase) => observedClassifier(pool ? pooledClassifier(createClassifier(k), pool) : createClassifier(k), metrics);
  const classifier = classifierFor(kb);
  const embedder = await createEmbedder({ model: config.EMBEDDING_MODEL, allowDownload: config.EMBEDDING_ALLOW_DOWNLOAD, cacheDir: config.EMBEDDING_CACHE_DIR, log: (m) => logger.info(m) });
  const dense = await denseIndexFor(embedder, kb, config);
  if (embedder) logger.info({ model: embedder.model }, 'dense retrieval fused with lexical ranking');
  const cipher = openCipher(config, logger);
  const stores = await openStores(config, logger, cipher);
  const bus = await createBus({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger });
  const channels = createChannelRegistry();
  const handoff = await createHandoff({
    backend: config.REDIS_URL ? { kind: 'redis', url: config.REDIS_URL, prefix: config.REDIS_PREFIX } : { kind: 'sqlite', dir: config.HANDOFF_DATA_DIR },
    kb, knowledgeDir: config.KNOWLEDGE_DIR, stores, bus, logger, mask, cipher,
    settings: { maxWaitS: config.HANDOFF_MAX_WAIT_S, claimGraceS: config.HANDOFF_CLAIM_GRACE_S, avgHandleS: config.HANDOFF_AVG_HANDLE_S, sessionTtlS: config.AGENT_SESSION_TTL_S },
  });
  const inFlight = createInFlightTurns();
  const events = analyticsMiddleware({ events: stores.events, transcripts: stores.transcripts });
  const service = createConversationService({
    kb, classifier, stores, logger, dense, bus, channels,
    middleware: {
      around: [inFlight.middleware],
      beforeEngine: [outcomeCounter(metrics), events.beforeEngine, ...(handoff.middleware.beforeEngine ?? [])],
      afterCommit: [events.afterCommit, ...(handoff.middleware.afterCommit ?? [])],
    },
    effects: handoff.effects,
    onTurn: observeTurn(metrics),
    flowAbandonMinutes: config.FLOW_ABANDON_MINUTES,
  });
  handoff.attach(service);
  // The demo page follows a reload: the channels read the knowledge in use.
  addConfiguredChannels(channels, { config, service, bus, stores, logger, kb, knowledge: () => assistant.kb });
  const shutdownHooks: ShutdownHook[] = [];
  const assistant: Assistant = {
    config, logger, kb, classifierPool: pool, classifier, stores, bus, service, channels, handoff, metrics, inFlight, shutdownHooks,
    onShutdown: (hook) => void shutdownHooks.push(hook),
    async swapKnowledge(next) {
      const nextClassifier = classifierFor(next);
      pool?.reload(next.hash);
      service.reload({ kb: next, classifier: nextClassifier, dense: await denseIndexFor(embedder, next, config) });
      mask.swap(maskerFor(next));
      assistant.kb = next;
      assistant.classifier = nextClassifier;
    },
  };
  // Claims are released (back to the queue) and the handoff's connections closed on shutdown.
  assistant.onShutdown(() => handoff.close());
  if (pool) {
    metrics.classifierPool(() => pool.stats());
    assistant.onShutdown(() => pool.close());
  }
  logger.info({ items: kb.items.size, flows: kb.flows.size, store: stores.backend, knowledgeHash: kb.hash }, 'assistant ready');
  return assistant;
}

async function denseIndexFor(embedder: Embedder | null, kb: KnowledgeBase, config: Config): Promise<DenseIndex | undefined> {
  return embedder ? DenseIndex.build(embedder, denseDocs(kb), { dir: config.EMBEDDING_CACHE_DIR, knowledgeHash: kb.hash }) : undefined;
}

/** DATA_KEY's cipher (with DATA_KEYS_OLD for reading), or the development key kept in DATA_DIR. */
export function openCipher(config: Config, logger: Logger): FieldCipher {
  return loadFieldCipher({ dataKey: config.DATA_KEY, oldKeys: config.DATA_KEYS_OLD, nodeEnv: config.NODE_ENV, dataDir: config.DATA_DIR, warn: (m) => logger.warn(m) });
}

/** The stores the configuration names (Redis, SQLite or memory), with personal data encrypted under DATA_KEY. */
export async function openStores(config: Config, logger: Logger, cipher: FieldCipher = openCipher(config, logger)): Promise<Stores> {
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

/** Starts the knowledge watcher (KNOWLEDGE_WATCH), announcing reloads to the other instances in Redis mode. */
export async function startKnowledgeWatch(assistant: Assistant): Promise<KnowledgeWatcher | undefined> {
  const { config, logger, metrics } = assistant;
  if (!config.KNOWLEDGE_WATCH) return undefined;
  const sync = config.REDIS_URL ? await createRedisKnowledgeSync(config.REDIS_URL, config.REDIS_PREFIX, logger).catch((err: Error) => (logger.warn({ err: err.message }, 'knowledge sync off: Redis unreachable'), undefined)) : undefined;
  return watchKnowledge({
    knowledgeDir: config.KNOWLEDGE_DIR,
    flowsDir: config.FLOWS_DIR,
    debounceMs: config.KNOWLEDGE_RELOAD_DEBOUNCE_MS,
    currentHash: () => assistant.kb.hash,
    apply: (kb) => assistant.swapKnowledge(kb),
    log: logger,
    sync,
    onOutcome: (o) => {
      if (o.status !== 'unchanged') metrics.knowledgeReload(o.status);
    },
  });
}

/** /metrics: on its own internal port (METRICS_PORT), or on the main port behind METRICS_TOKEN; otherwise not served. */
async function serveMetrics(assistant: Assistant, app: FastifyInstance): Promise<FastifyInstance | undefined> {
  const { config, logger, metrics } = assistant;
  if (config.METRICS_PORT !== undefined) {
    const m = await startMetricsServer({ registry: metrics.registry, token: config.METRICS_TOKEN, port: config.METRICS_PORT, host: config.METRICS_HOST });
    logger.info(`metrics listening on ${m.address}/metrics`);
    return m.app;
  }
  if (config.METRICS_TOKEN) await app.register(metricsRoutes, { registry: metrics.registry, token: config.METRICS_TOKEN });
  else logger.info('metrics off: set METRICS_PORT (internal port) or METRICS_TOKEN (bearer token on the main port)');
  return undefined;
}

async function main(): Promise<void> {
  const assistant = await createAssistant();
  const { config, logger, stores, service, channels, bus, kb, handoff } = assistant;
  const consolePlugin = agentConsole({
    handoff: handoff.service, kb: () => assistant.kb, classifier: () => assistant.classifier, stores, bus,
    sessionSecret: config.AGENT_SESSION_SECRET, sessionTtlS: config.AGENT_SESSION_TTL_S, secureCookie: config.AGENT_COOKIE_SECURE, loginRateMax: config.AGENT_LOGIN_RATE_MAX,
    heartbeatMs: Math.min(5_000, (config.HANDOFF_CLAIM_GRACE_S * 1000) / 3),
    // Behind the console login: the analytics for agents and admins, the dead letters for admins.
    routes: [analyticsRoutes({ events: stores.events, knowledge: () => assistant.kb }), outboxAdminRoutes({ stores })],
  });
  const app = await buildServer({ service, stores, logger, rateLimitMax: config.RATE_LIMIT_MAX, channels: channels.list(), plugins: [consolePlugin], trustProxy: config.TRUST_PROXY, hotline: () => assistant.kb.utility.hotline });
  await handoff.start();
  const metricsApp = await serveMetrics(assistant, app);
  const dispatcher = await mountBackoffice(app, { config, stores, service, logger });
  if (dispatcher) assistant.onShutdown(() => dispatcher.stop());
  reportChannels(channels, logger);
  const stopPurge = startPurgeJob(stores, config.PURGE_INTERVAL_MS, logger);
  const watcher = await startKnowledgeWatch(assistant);
  const shutdown = gracefulShutdown(assistant, { app, metricsApp, watcher, stopPurge });
  let closing = false;
  const close = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'signal received');
    // A last resort: whatever hangs, the process is gone shortly after the grace.
    setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS + 2_000).unref();
    shutdown().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(`${kb.utility.shortName} assistant listening on ${address}: demo page at /, API at /api/v1/conversations`);
  // Long polling and webhook set-up run in the background: a platform that does not answer never blocks the server.
  void channels.startAll(logger);
  dispatcher?.start();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
