import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

/** Options of the /metrics route. */
export interface MetricsRouteOptions {
  registry: Registry;
  /** When set, requests must send `Authorization: Bearer <token>`. */
  token?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the Authorization header carries the token (constant-time compare). */
function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1]!), digest(token));
}

/** GET /metrics in the Prometheus text format; 401 without the token when one is configured. Not rate-limited. */
export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, { registry, token }) => {
  app.get('/metrics', { config: { rateLimit: false } }, async (req, reply) => {
    if (token && !authorized(req.headers.authorization, token)) {
      return reply.status(401).header('www-authenticate', 'Bearer').send({ error: { code: 'UNAUTHORIZED', message: 'metrics need the METRICS_TOKEN bearer token' } });
    }
    return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(await registry.metrics());
  });
};

/** A separate listener for /metrics on an internal port (METRICS_PORT), away from the public routes. */
export async function startMetricsServer(opts: MetricsRouteOptions & { port: number; host: string }): Promise<{ app: FastifyInstance; address: string }> {
  const app = Fastify({ logger: false });
  await app.register(metricsRoutes, { registry: opts.registry, token: opts.token });
  const address = await app.listen({ port: opts.port, host: opts.host });
  return { app, address };
}
