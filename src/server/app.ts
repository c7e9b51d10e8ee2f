import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import type { ChannelAdapter } from '../channels/types.js';
import { createWebChannel } from '../channels/web/index.js';
import type { ConversationService } from '../conversation/index.js';
import type { Live, Logger } from '../core/index.js';
import type { Stores } from '../store/index.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandler } from './errors.js';
import { applicationRoutes } from './routes/applications.js';
import { healthRoutes } from './routes/health.js';
import { registerSecurityHeaders } from './security-headers.js';

/** Options for the HTTP server. */
export interface ServerOptions {
  service: ConversationService;
  stores: Stores;
  logger: Logger;
  /** Requests per minute per client IP; 0 turns the limit off. */
  rateLimitMax?: number;
  /** The channels whose routes the server carries; by default the web channel (REST API and widget socket) alone. */
  channels?: ChannelAdapter[];
  /** TRUST_PROXY: which proxies' X-Forwarded-For to believe (the client IP the rate limit counts). */
  trustProxy?: boolean | number | string[];
  /** The utility's hotline (knowledge/utility.yaml), named in 5xx messages. */
  hotline?: Live<string>;
  /** Further route plugins (the agent console). */
  plugins?: Array<(app: FastifyInstance) => Promise<void>>;
}

/** Largest WebSocket frame a client may send (a message is at most 2000 characters). */
const MAX_FRAME_BYTES = 64 * 1024;

const RECONNECT = JSON.stringify({ type: 'reconnect' });

/** Builds the fastify app with every route; call listen() or inject() on it. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors,
    clientErrorHandler,
    // Fastify accepts a hop count at runtime; its types only list the other forms.
    trustProxy: (opts.trustProxy ?? false) as boolean | string[],
  });
  registerErrorHandler(app, { hotline: opts.hotline });
  // The API speaks JSON: anything else is 415 (a channel needing XML registers its parser in its own plugin).
  app.removeContentTypeParser('text/plain');
  // Helmet's default policy, less upgrade-insecure-requests: over plain HTTP on a LAN address it rewrote the demo's
  // widget.js and socket to an https:// nobody serves (TLS deployments get HSTS and have no mixed content to upgrade).
  await registerSecurityHeaders(app, { contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } } });
  // API responses carry transcripts and application records: never cached by browsers or proxies.
  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });
  if (opts.rateLimitMax) {
    // No loopback exemption: behind a local reverse proxy every client would look like 127.0.0.1 (set TRUST_PROXY instead).
    await app.register(rateLimit, {
      max: opts.rateLimitMax,
      timeWindow: '1 minute',
      ...(opts.stores.rateLimitRedis ? { redis: opts.stores.rateLimitRedis, skipOnError: true } : {}),
    });
  }
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
  await app.register(applicationRoutes, { service: opts.service, attempts: opts.stores.attempts });
  for (const channel of opts.channels ?? [createWebChannel({ service: opts.service })]) await channel.register?.(app);
  for (const plugin of opts.plugins ?? []) await plugin(app);
  return app;
}
