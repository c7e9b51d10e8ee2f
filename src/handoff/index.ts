import { join } from 'node:path';
import type { Masker, Logger } from '../core/index.js';
import type { ConversationService, EffectHandler, PipelineMiddleware } from '../conversation/index.js';
import type { MessageBus } from '../delivery/types.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { FieldCipher } from '../privacy/index.js';
import type { Stores } from '../store/index.js';
import { noticeStage, queueHandoffEffect } from './effect.js';
import { createMemoryHandoffDb } from './memory-db.js';
import { createMemoryHandoffQueue } from './memory-queue.js';
import { agentHoldsStage } from './middleware.js';
import { connectHandoffRedis, createRedisHandoffDb, createRedisHandoffQueue } from './redis-backend.js';
import { protectHandoffDb } from './protect-db.js';
import { HandoffService, type HandoffSettings } from './service.js';
import { createSqliteHandoffDb } from './sqlite-db.js';
import { loadHandoffTexts } from './texts.js';
import type { HandoffDb, HandoffQueue } from './types.js';

export * from './types.js';
export { HandoffService, publicHandoff, type HandoffSettings, type QueueItem, type Poster } from './service.js';
export { buildDashboard, type Dashboard } from './dashboard.js';
export { CallbackBook } from './callbacks.js';
export { AgentDirectory, AGENT_RECORD_VERSION, LOGIN_PATTERN, upgradeAgent } from './agents.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { loadHandoffTexts, fill, type HandoffTexts } from './texts.js';
export { priorityOf } from './effect.js';
export { createMemoryHandoffDb } from './memory-db.js';
export { createMemoryHandoffQueue } from './memory-queue.js';
export { createSqliteHandoffDb } from './sqlite-db.js';
export { createRedisHandoffDb, createRedisHandoffQueue, connectHandoffRedis } from './redis-backend.js';

/** Where the handoff keeps its data. */
export type HandoffBackend = { kind: 'memory' } | { kind: 'sqlite'; dir: string } | { kind: 'redis'; url: string; prefix: string };

/** What the handoff area is built from. */
export interface HandoffOptions {
  backend: HandoffBackend;
  kb: KnowledgeBase;
  knowledgeDir: string;
  stores: Stores;
  bus?: MessageBus;
  logger: Logger;
  mask: Masker;
  settings: HandoffSettings;
  /** DATA_KEY's cipher: the personal numbers in handoffs and callback tickets are sealed at rest with it. */
  cipher?: FieldCipher;
  /** How often claims and long waits are checked, in ms. */
  sweepMs?: number;
  now?: () => Date;
}

/** The handoff area: its service, the pipeline middleware and effect handler it adds, and its background sweep. */
export interface HandoffArea {
  service: HandoffService;
  middleware: PipelineMiddleware;
  effects: EffectHandler[];
  /** Connects the conversation service (for agent and system messages). */
  attach(conversation: ConversationService): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

async function open(backend: HandoffBackend): Promise<{ dbs: { handoffs: HandoffDb; agents: HandoffDb; callbacks: HandoffDb }; queue: HandoffQueue; persistentQueue: boolean; close: () => Promise<void> }> {
  if (backend.kind === 'redis') {
    const client = await connectHandoffRedis(backend.url);
    const db = createRedisHandoffDb(client, backend.prefix);
    return { dbs: { handoffs: db, agents: db, callbacks: db }, queue: createRedisHandoffQueue(client, backend.prefix), persistentQueue: true, close: async () => void (client.isOpen ? await client.close() : client.destroy()) };
  }
  if (backend.kind === 'sqlite') {
    const dbs = { handoffs: createSqliteHandoffDb(join(backend.dir, 'handoffs.sqlite')), agents: createSqliteHandoffDb(join(backend.dir, 'agents.sqlite')), callbacks: createSqliteHandoffDb(join(backend.dir, 'callbacks.sqlite')) };
    return { dbs, queue: createMemoryHandoffQueue(), persistentQueue: false, close: async () => void (await Promise.all(Object.values(dbs).map((d) => d.close()))) };
  }
  const db = createMemoryHandoffDb();
  return { dbs: { handoffs: db, agents: db, callbacks: db }, queue: createMemoryHandoffQueue(), persistentQueue: false, close: async () => {} };
}

/** Opens the agents' directory alone (the `agent add` command). */
export async function openAgentDirectory(backend: HandoffBackend, sessionTtlS = 28_800) {
  const { dbs, close } = await open(backend);
  const { AgentDirectory } = await import('./agents.js');
  return { agents: new AgentDirectory(dbs.agents, sessionTtlS), close };
}

/** Builds the handoff area on its backend. */
export async function createHandoff(opts: HandoffOptions): Promise<HandoffArea> {
  const opened = await open(opts.backend);
  const { queue, persistentQueue, close } = opened;
  const cipher = opts.cipher;
  const dbs = cipher ? { ...opened.dbs, handoffs: protectHandoffDb(opened.dbs.handoffs, cipher), callbacks: protectHandoffDb(opened.dbs.callbacks, cipher) } : opened.dbs;
  const service = new HandoffService({ dbs, queue, kb: opts.kb, texts: loadHandoffTexts(opts.knowledgeDir), stores: opts.stores, logger: opts.logger.child({ area: 'handoff' }), settings: opts.settings, ...(opts.now ? { now: opts.now } : {}) });
  const publish = async (id: string, messages: Parameters<MessageBus['publish']>[1]) => opts.bus?.publish(id, messages);
  let timer: NodeJS.Timeout | undefined;
  let sweeping = false;
  return {
    service,
    middleware: { beforeEngine: [agentHoldsStage(service, opts.mask)], afterCommit: [noticeStage({ stores: opts.stores, publish })] },
    effects: [queueHandoffEffect({ handoff: service, kb: opts.kb, stores: opts.stores, mask: opts.mask }) as EffectHandler],
    attach(conversation) {
      service.attach((id, messages) => conversation.post(id, messages));
    },
    async start() {
      if (!persistentQueue) await service.restore();
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        service.sweep().catch((err: Error) => opts.logger.warn({ err: err.message }, 'handoff sweep failed')).finally(() => (sweeping = false));
      }, opts.sweepMs ?? 5_000);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      await close();
    },
  };
}
