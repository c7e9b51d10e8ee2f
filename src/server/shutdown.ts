import { Server as NetServer } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ChannelRegistry } from '../channels/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../core/index.js';
import type { MessageBus } from '../delivery/index.js';
import type { KnowledgeWatcher } from '../knowledge/reload.js';
import type { InFlightTurns } from '../observability/index.js';
import type { Stores } from '../store/index.js';

/** A step of the graceful shutdown, run after in-flight turns finished and before Redis closes (e.g. release handoff claims). */
export type ShutdownHook = () => Promise<void> | void;

/** What the shutdown stops: the parts of the assistant (src/main.ts `Assistant`) it closes, in order. */
export interface ShutdownTarget {
  config: Pick<Config, 'SHUTDOWN_GRACE_MS' | 'SHUTDOWN_DRAIN_MS'>;
  logger: Logger;
  channels: Pick<ChannelRegistry, 'stopAll'>;
  bus: Pick<MessageBus, 'close'>;
  stores: Pick<Stores, 'close' | 'backend'>;
  inFlight: InFlightTurns;
  /** Run after in-flight turns, in order, each bounded by the grace. */
  readonly shutdownHooks: readonly ShutdownHook[];
}

/** The servers and jobs started beside the assistant. */
export interface ShutdownParts {
  app: FastifyInstance;
  metricsApp?: FastifyInstance;
  watcher?: KnowledgeWatcher;
  stopPurge: () => void;
}

/** Bounds a shutdown step, so one that hangs cannot keep the process alive past the grace. */
async function step(logger: Logger, name: string, fn: () => Promise<unknown> | unknown, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([Promise.resolve().then(fn), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]);
  } catch (err) {
    logger.warn({ step: name, err: (err as Error).message }, 'shutdown step failed');
  } finally {
    clearTimeout(timer);
  }
}

/** Time for connections accepted just before the listener closed to deliver their request (else they count as idle and are cut). */
const SETTLE_MS = 250;

/**
 * Stops listening without cutting connections already accepted (http's close() would also drop those whose request
 * has not arrived yet); resolves when the last connection has ended, reaping keep-alive connections as they go idle.
 */
function stopAccepting(server: HttpServer): { settled: Promise<void>; drained: Promise<void> } {
  let reaper: NodeJS.Timeout | undefined;
  const drained = new Promise<void>((resolve) => {
    NetServer.prototype.close.call(server, () => resolve());
  }).finally(() => clearInterval(reaper));
  const settled = new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS)).then(() => {
    reaper = setInterval(() => server.closeIdleConnections(), 50);
  });
  return { settled, drained };
}

/**
 * The graceful shutdown: stop pulling platform updates; stop accepting (fastify answers 503 on kept-alive connections,
 * sockets get {"type":"reconnect"} and close 1012) while in-flight requests finish; wait for in-flight turns;
 * run the shutdown hooks (handoff claims); close the watcher, the metrics port, the bus and the stores.
 * Call it before `app.listen()` (it adds the draining /readyz hook); it returns the function to run on SIGTERM.
 */
export function gracefulShutdown(assistant: ShutdownTarget, parts: ShutdownParts): () => Promise<void> {
  const { config, logger, channels, bus, stores, inFlight } = assistant;
  const grace = config.SHUTDOWN_GRACE_MS;
  let draining = false;
  // While draining, /readyz says 503 so the reverse proxy stops sending new connections here; requests are still served.
  parts.app.addHook('onRequest', async (req, reply) => {
    if (draining && req.url.split('?')[0] === '/readyz') return reply.status(503).send({ status: 'draining', store: stores.backend });
  });
  return async () => {
    const started = Date.now();
    logger.info({ inFlight: inFlight.count(), graceMs: grace, drainMs: config.SHUTDOWN_DRAIN_MS }, 'shutting down');
    const left = () => Math.max(100, grace - (Date.now() - started));
    parts.stopPurge();
    draining = true;
    if (config.SHUTDOWN_DRAIN_MS) await new Promise((r) => setTimeout(r, Math.min(config.SHUTDOWN_DRAIN_MS, left())));
    await step(logger, 'channels', () => channels.stopAll(logger), left());
    const http = stopAccepting(parts.app.server);
    await http.settled;
    // Sockets get {"type":"reconnect"}; a request on a kept-alive connection now gets 503 with Connection: close.
    await step(logger, 'http', () => parts.app.close(), left());
    await step(logger, 'in-flight requests', () => http.drained, left());
    const drained = await inFlight.drain(left());
    if (!drained) logger.warn({ inFlight: inFlight.count() }, 'shutdown grace over with turns still running');
    for (const [i, hook] of assistant.shutdownHooks.entries()) await step(logger, `hook ${i}`, hook, left());
    await step(logger, 'knowledge watch', () => parts.watcher?.close(), left());
    await step(logger, 'metrics', () => parts.metricsApp?.close(), left());
    await step(logger, 'bus', () => bus.close(), left());
    await step(logger, 'stores', () => stores.close(), left());
    logger.info({ ms: Date.now() - started }, 'shut down');
  };
}
