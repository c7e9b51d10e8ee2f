import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../core/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { EventStore } from '../store/index.js';
import { analyticsRoutes } from './routes.js';

/** Registers /api/v1/analytics/* and /agent/analytics when BACKOFFICE_ADMIN_TOKEN is set (the agent console's login will replace it). */
export async function mountAnalytics(app: FastifyInstance, o: { config: Pick<Config, 'BACKOFFICE_ADMIN_TOKEN'>; events: EventStore; knowledge: () => KnowledgeBase; logger: Logger }): Promise<void> {
  if (!o.config.BACKOFFICE_ADMIN_TOKEN) {
    o.logger.info('analytics page off: set BACKOFFICE_ADMIN_TOKEN to open /agent/analytics');
    return;
  }
  await app.register(analyticsRoutes, { events: o.events, adminToken: o.config.BACKOFFICE_ADMIN_TOKEN, knowledge: o.knowledge });
}
