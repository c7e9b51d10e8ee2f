import type { FastifyPluginAsync } from 'fastify';
import type { Stores } from '../../store/index.js';

/** Liveness and readiness; readiness checks the store backend and answers 503 within REDIS_TIMEOUT_MS when it hangs. Not rate-limited. */
export const healthRoutes: FastifyPluginAsync<{ stores: Stores }> = async (app, { stores }) => {
  const config = { rateLimit: false } as const;
  app.get('/healthz', { config }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config }, async (_req, reply) => {
    try {
      await stores.ping();
      return { status: 'ready', store: stores.backend };
    } catch {
      return reply.status(503).send({ status: 'unavailable', store: stores.backend, error: { code: 'STORE_UNAVAILABLE', message: '存储不可用' } });
    }
  });
};
