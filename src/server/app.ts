import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { ConversationService } from '../conversation/index.js';
import type { Logger } from '../core/index.js';
import type { Stores } from '../store/index.js';
import { frameworkErrors, registerErrorHandler } from './errors.js';
import { applicationRoutes } from './routes/applications.js';
import { conversationRoutes } from './routes/conversations.js';
import { healthRoutes } from './routes/health.js';

/** Options for the HTTP server. */
export interface ServerOptions {
  service: ConversationService;
  stores: Stores;
  logger: Logger;
  /** Requests per minute per client IP; 0 turns the limit off. */
  rateLimitMax?: number;
}

/** Builds the fastify app with every route; call listen() or inject() on it. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: opts.logger as FastifyBaseLogger, bodyLimit: 64 * 1024, logController: new LogController({ disableRequestLogging: true }), frameworkErrors });
  registerErrorHandler(app);
  if (opts.rateLimitMax) await app.register(rateLimit, { max: opts.rateLimitMax, timeWindow: '1 minute', allowList: ['127.0.0.1', '::1'] });
  await app.register(healthRoutes, { stores: opts.stores });
  await app.register(conversationRoutes, { service: opts.service });
  await app.register(applicationRoutes, { service: opts.service });
  return app;
}
