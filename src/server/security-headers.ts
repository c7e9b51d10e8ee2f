import Fastify, { type FastifyInstance } from 'fastify';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';

/**
 * Helmet's response headers for `options`, worked out once by a throw-away app: @fastify/helmet builds the whole
 * helmet middleware again on every request, while with a fixed policy (no CSP nonces, no per-route options) its
 * headers are the same for every response.
 */
export async function helmetHeaders(options: FastifyHelmetOptions): Promise<Array<[string, string | number | string[]]>> {
  const probe = Fastify({ logger: false });
  let headers: Array<[string, string | number | string[]]> = [];
  try {
    await probe.register(helmet, { ...options, global: true });
    probe.get('/', async (_req, reply) => {
      // Helmet sets its headers on the raw response before the handler; fastify adds its own only when sending.
      headers = Object.entries(reply.raw.getHeaders()).filter((e): e is [string, string | number | string[]] => e[1] !== undefined);
      return '';
    });
    await probe.inject({ method: 'GET', url: '/' });
  } finally {
    await probe.close();
  }
  if (!headers.length) throw new Error('helmet set no headers');
  return headers;
}

/** Sets helmet's headers (computed once by `helmetHeaders`) on every response, as @fastify/helmet would. */
export async function registerSecurityHeaders(app: FastifyInstance, options: FastifyHelmetOptions): Promise<void> {
  const headers = await helmetHeaders(options);
  app.addHook('onRequest', (_req, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
}
