import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { agentConsole, type ConsoleRoutes } from '../../src/agent/index.js';
import { maskerFor } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { createHandoff, type AgentRole, type HandoffArea } from '../../src/handoff/index.js';
import type { KnowledgeBase } from '../../src/knowledge/index.js';
import type { Classifier } from '../../src/nlu/index.js';
import type { Stores } from '../../src/store/index.js';

/** The agent console on a memory handoff store, with `routes` behind its login; `addAgent` creates logins for the test. */
export async function consoleWith(o: { kb: KnowledgeBase; classifier: Classifier; stores: Stores; routes: ConsoleRoutes[] }) {
  const logger = createLogger('silent');
  const handoff: HandoffArea = await createHandoff({ backend: { kind: 'memory' }, kb: o.kb, knowledgeDir: 'knowledge', stores: o.stores, logger, mask: maskerFor(o.kb), settings: { maxWaitS: 300, claimGraceS: 60, avgHandleS: 240, sessionTtlS: 3600 } });
  const plugin = agentConsole({ handoff: handoff.service, kb: o.kb, classifier: o.classifier, stores: o.stores, sessionSecret: 'a-test-secret-of-at-least-32-characters!', sessionTtlS: 3600, secureCookie: false, loginRateMax: 100, routes: o.routes });
  return {
    plugin,
    handoff,
    /** Adds a login with the password `password-<login>`. */
    addAgent: (login: string, role: AgentRole = 'agent') => handoff.service.agents.add(login, login, `password-${login}`, { role }),
  };
}

/** The `wsa_agent` cookie a response sets, as `name=value`. */
function sessionCookie(res: LightMyRequestResponse): string | undefined {
  const set = res.headers['set-cookie'];
  return [set ?? []].flat().map((c) => String(c).split(';')[0]!).find((c) => c.startsWith('wsa_agent='));
}

/** Logs in through the console API (inject): the headers (session cookie, CSRF token) the later calls carry. */
export async function injectLogin(app: FastifyInstance, login: string, password = `password-${login}`): Promise<{ cookie: string; 'x-csrf-token': string }> {
  const first = await app.inject({ method: 'GET', url: '/api/v1/agent/csrf' });
  const cookie = sessionCookie(first)!;
  const res = await app.inject({ method: 'POST', url: '/api/v1/agent/login', headers: { cookie, 'x-csrf-token': first.json().csrfToken }, payload: { login, password } });
  if (res.statusCode !== 200) throw new Error(`login of ${login} refused: ${res.statusCode} ${res.body}`);
  return { cookie: sessionCookie(res) ?? cookie, 'x-csrf-token': res.json().csrfToken };
}
