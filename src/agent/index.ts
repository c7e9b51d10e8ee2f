import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Live } from '../core/index.js';
import type { MessageBus } from '../delivery/types.js';
import type { HandoffService } from '../handoff/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Classifier } from '../nlu/index.js';
import type { Stores } from '../store/index.js';
import { consoleAssets } from './assets.js';
import { registerAuth, requireAdmin, requireAgent, requireCsrf, type ConsoleRoutes } from './auth.js';
import { agentRoutes } from './routes.js';
import { consoleSocket } from './socket.js';

export { CONSOLE_CSP } from './assets.js';
export { requireAdmin, requireAgent, type ConsoleGuards, type ConsoleRoutes } from './auth.js';
export type { ConsoleEvent } from './socket.js';

/** What the agent console is built from. */
export interface AgentConsoleOptions {
  handoff: HandoffService;
  /** The knowledge and classifier in use; functions, so the console follows a reload. */
  kb: Live<KnowledgeBase>;
  classifier: Live<Classifier>;
  stores: Stores;
  bus?: MessageBus;
  /** AGENT_SESSION_SECRET; without it a key is generated once and kept in the store. */
  sessionSecret?: string;
  sessionTtlS: number;
  secureCookie: boolean;
  loginRateMax: number;
  /** Console folder (index.html, console.css, dist/console.js). */
  dir?: string;
  heartbeatMs?: number;
  pollMs?: number;
  /** More routes behind the console login (analytics for agents, the outbox for admins). */
  routes?: ConsoleRoutes[];
}

/** The agent console (`/agent`) and its API (`/api/v1/agent/…`), as one encapsulated fastify plugin. */
export function agentConsole(opts: AgentConsoleOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(async (scope) => {
      if (!scope.hasDecorator('rateLimit')) await scope.register(rateLimit, { global: false });
      await registerAuth(scope, { handoff: opts.handoff, ...(opts.sessionSecret ? { secret: opts.sessionSecret } : {}), sessionTtlS: opts.sessionTtlS, secureCookie: opts.secureCookie });
      scope.setErrorHandler((err, _req, reply) => {
        if ((err as { code?: string }).code?.startsWith('FST_CSRF')) return reply.status(403).send({ error: { code: 'CSRF_INVALID', message: '缺少或错误的 CSRF 令牌，请刷新页面后重试' } });
        throw err;
      });
      await agentRoutes(scope, { handoff: opts.handoff, kb: opts.kb, classifier: opts.classifier, stores: opts.stores, loginRateMax: opts.loginRateMax });
      await consoleSocket(scope, { handoff: opts.handoff, stores: opts.stores, ...(opts.bus ? { bus: opts.bus } : {}), ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}), ...(opts.pollMs ? { pollMs: opts.pollMs } : {}) });
      await consoleAssets(scope, opts.dir ? { dir: opts.dir } : {});
      const guards = { agent: requireAgent(opts.handoff), admin: requireAdmin(opts.handoff), csrf: requireCsrf(scope) };
      for (const routes of opts.routes ?? []) await routes(scope, guards);
    });
  };
}
