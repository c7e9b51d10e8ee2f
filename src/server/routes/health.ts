import type { FastifyPluginAsync } from 'fastify';
import type { Stores } from '../../store/index.js';

/** Liveness and readiness; readiness checks the store backend (Redis when configured). */
export const healthRoutes: FastifyPluginAsync<{ stores: Stores }> = async (app, { stores }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await stores.ping();
      return { status: 'ready', store: stores.backend };
    } catch {
      return reply.status(503).send({ status: 'unavailable', store: stores.backend, error: { code: 'STORE_UNAVAILABLE', message: '存储不可用' } });
    }
  });
};
