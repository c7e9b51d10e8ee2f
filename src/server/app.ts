import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import type { ChannelAdapter } from '../channels/types.js';
import { createWebChannel } from '../channels/web/index.js';
import type { ConversationService } from '../conversation/index.js';
import type { Logger } from '../core/index.js';
import type { Stores } from '../store/index.js';
import { frameworkErrors, registerErrorHandler } from './errors.js';
import { applicationRoutes } from './routes/applications.js';
import { healthRoutes } from './routes/health.js';

/** Options for the HTTP server. */
export interface ServerOptions {
  service: ConversationService;
  stores: Stores;
  logger: Logger;
  /** Requests per minute per client IP; 0 turns the limit off. */
  rateLimitMax?: number;
  /** The channels whose routes the server carries; by default the web channel (REST API and widget socket) alone. */
  channels?: ChannelAdapter[];
  /** Further route plugins (the agent console). */
  plugins?: Array<(app: FastifyInstance) => Promise<void>>;
}

/** Largest WebSocket frame a client may send (a message is at most 2000 characters). */
const MAX_FRAME_BYTES = 64 * 1024;

const RECONNECT = JSON.stringify({ type: 'reconnect' });

/** Builds the fastify app with every route; call listen() or inject() on it. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: opts.logger as FastifyBaseLogger, bodyLimit: 64 * 1024, logController: new LogController({ disableRequestLogging: true }), frameworkErrors });
  registerErrorHandler(app);
  if (opts.rateLimitMax) await app.register(rateLimit, { max: opts.rateLimitMax, timeWindow: '1 minute', allowList: ['127.0.0.1', '::1'] });
  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    // Before a graceful shutdown every socket is told to reconnect (to another instance, or to this one restarted).
    preClose(done) {
      for (const client of this.websocketServer.clients) {
        if (client.readyState === client.OPEN) client.send(RECONNECT);
        client.close(1012, 'server restarting');
      }
      this.websocketServer.close(() => done());
    },
  });
  await app.register(healthRoutes, { stores: opts.stores });
  await app.register(applicationRoutes, { service: opts.service });
  for (const channel of opts.channels ?? [createWebChannel({ service: opts.service })]) await channel.register?.(app);
  for (const plugin of opts.plugins ?? []) await plugin(app);
  return app;
}
