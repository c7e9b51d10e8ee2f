import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/core/index.js';
import { createAssistant, gracefulShutdown } from '../../src/main.js';
import { createMetrics } from '../../src/observability/index.js';
import { buildServer } from '../../src/server/index.js';

describe('shutdown hooks', () => {
  it('run in order after the HTTP server stopped, with the stores still open; the stores close after them', async () => {
    const config = loadConfig({ STORE: 'memory', KNOWLEDGE_WATCH: 'false', SHUTDOWN_GRACE_MS: '5000' });
    const assistant = await createAssistant(config, createLogger('silent'), createMetrics());
    const app = await buildServer({ service: assistant.service, stores: assistant.stores, logger: assistant.logger });
    let purgeStopped = false;
    // Built before listen(): it adds the draining /readyz hook.
    const shutdown = gracefulShutdown(assistant, { app, stopPurge: () => void (purgeStopped = true) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { conversationId } = await assistant.service.start();
    const seen: string[] = [];
    assistant.onShutdown(async () => {
      seen.push(`first: listening=${app.server.listening} inFlight=${assistant.inFlight.count()}`);
      // What a handoff module does here: write its last state (release claims) while the store is still open.
      const posted = await assistant.service.post(conversationId, [{ from: 'system', text: '坐席已释放' }]);
      seen.push(`posted seq ${posted[0]!.seq}`);
    });
    assistant.onShutdown(() => {
      throw new Error('a failing hook does not stop the shutdown');
    });
    assistant.onShutdown(() => void seen.push('third'));
    const closeStores = assistant.stores.close.bind(assistant.stores);
    assistant.stores.close = async () => {
      seen.push('stores closed');
      await closeStores();
    };
    await shutdown();
    expect(seen).toEqual(['first: listening=false inFlight=0', 'posted seq 2', 'third', 'stores closed']);
    expect(purgeStopped).toBe(true);
  });
});
