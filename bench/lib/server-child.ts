// The server under load, in its own process (started by ./server.ts): either the assistant as `npm start` builds it
// on the embedded defaults (SQLite under DATA_DIR, handoff queue in SQLite, agent console mounted), with logging
// silent and the rate limit off, or a bare Fastify hello-world for the baseline. It reports its address over IPC
// and answers {type:'memory'} with process.memoryUsage().
import type { FastifyInstance } from 'fastify';

/** What the child serves. */
export type Target = 'assistant' | 'hello';

/** The messages the child sends to its parent. */
export type ChildMessage = { type: 'listening'; address: string } | { type: 'memory'; usage: NodeJS.MemoryUsage };

const HOST = '127.0.0.1';

/** The assistant's app on the configuration `env` gives (the embedded backends: DATA_DIR and HANDOFF_DATA_DIR should be fresh). */
export async function assistantApp(env: NodeJS.ProcessEnv = process.env): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  const { createAssistant } = await import('../../src/main.js');
  const { loadConfig } = await import('../../src/config.js');
  const { buildServer } = await import('../../src/server/index.js');
  const { agentConsole } = await import('../../src/agent/index.js');
  // REDIS_URL empty = the embedded backends; DATA_DIR and HANDOFF_DATA_DIR are the parent's fresh temp folder.
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent', REDIS_URL: '', EMBEDDING_MODEL: env.BENCH_EMBEDDING_MODEL ?? '' });
  const assistant = await createAssistant(config);
  const { service, stores, logger, kb, handoff, classifier, bus, channels } = assistant;
  const consolePlugin = agentConsole({ handoff: handoff.service, kb, classifier, stores, bus, sessionSecret: config.AGENT_SESSION_SECRET, sessionTtlS: config.AGENT_SESSION_TTL_S, secureCookie: false, loginRateMax: config.AGENT_LOGIN_RATE_MAX, heartbeatMs: 5_000 });
  const app = await buildServer({ service, stores, logger, rateLimitMax: 0, channels: channels.list(), plugins: [consolePlugin], hotline: kb.utility.hotline });
  await handoff.start();
  // Left out of main()'s start-up: platform channels, back office, analytics page, purge job and knowledge watcher;
  // none is configured by default or carries web-chat traffic.
  return {
    app,
    close: async () => {
      await app.close();
      for (const hook of assistant.shutdownHooks) await hook();
      await bus.close();
      await stores.close();
    },
  };
}

async function helloApp(): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ hello: 'world' }));
  return { app, close: () => app.close() };
}

/** Builds and starts the target, reports its address, and stops when the parent disconnects or on SIGTERM. */
export async function serve(target: Target): Promise<void> {
  const { app, close } = target === 'assistant' ? await assistantApp() : await helloApp();
  const address = await app.listen({ port: 0, host: HOST });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close().then(() => process.exit(0), (err: unknown) => (console.error(err), process.exit(1)));
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('message', (m: { type?: string; gc?: boolean }) => {
    if (m?.type !== 'memory' || !process.connected) return;
    // With --expose-gc the sample is taken after a full collection: live memory, not garbage awaiting the collector.
    if (m.gc) (globalThis as { gc?: () => void }).gc?.();
    // The parent may have disconnected during the collection: the answer is then dropped.
    if (process.connected) process.send!({ type: 'memory', usage: process.memoryUsage() } satisfies ChildMessage, () => {});
  });
  process.send!({ type: 'listening', address } satisfies ChildMessage);
}

const target = process.argv.find((a) => a.startsWith('--serve='))?.slice('--serve='.length) as Target | undefined;
if (target) {
  serve(target).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
