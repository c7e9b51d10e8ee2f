import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, liveValue, maskValue, type Live } from '../core/index.js';
import { parse } from '../channels/web/routes.js';
import { checkMobile, statusText } from '../dialogue/index.js';
import { CALLBACK_STATUSES, type HandoffService } from '../handoff/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Classifier } from '../nlu/index.js';
import type { Stores } from '../store/index.js';
import { requireAgent, requireCsrf } from './auth.js';

/** What the agent API reads. */
export interface AgentRouteOptions {
  handoff: HandoffService;
  kb: Live<KnowledgeBase>;
  classifier: Live<Classifier>;
  stores: Stores;
  /** Login attempts per minute per client address. */
  loginRateMax: number;
}

const BASE = '/api/v1/agent';
const idParams = z.object({ id: z.string().min(1).max(64) });
const text = (max: number) => z.string().trim().min(1).max(max);

/** The agent API: login, queue, claims, chat, transfer, close, reveal, callbacks, agent assist, dashboard. */
export async function agentRoutes(app: FastifyInstance, opts: AgentRouteOptions): Promise<void> {
  const { handoff, stores } = opts;
  const agentOnly = requireAgent(handoff);
  const csrf = requireCsrf(app);
  const authed = { preHandler: agentOnly };
  const changing = { preHandler: [agentOnly, csrf] };
  const me = (req: { agent?: { login: string; name: string; state: string; role: string } }) => ({ login: req.agent!.login, name: req.agent!.name, state: req.agent!.state, role: req.agent!.role });

  app.get(`${BASE}/csrf`, async (_req, reply) => ({ csrfToken: await reply.generateCsrf() }));

  app.post(
    `${BASE}/login`,
    { preHandler: csrf, config: { rateLimit: { max: opts.loginRateMax, timeWindow: '1 minute', allowList: () => false } } },
    async (req, reply) => {
      const body = parse(z.object({ login: text(32), password: z.string().min(1).max(200) }).strict(), req.body);
      const agent = await handoff.agents.verify(body.login.toLowerCase(), body.password);
      if (!agent) {
        req.log.info({ login: body.login.slice(0, 32) }, 'agent login failed');
        throw new AppError('LOGIN_FAILED');
      }
      const session = await handoff.agents.openSession(agent.login);
      req.session.set('sid', session.id);
      await handoff.agents.touch(agent.login);
      req.log.info({ agent: agent.login }, 'agent logged in');
      return { agent: { login: agent.login, name: agent.name, state: agent.state, role: agent.role }, csrfToken: await reply.generateCsrf() };
    },
  );

  app.post(`${BASE}/logout`, changing, async (req) => {
    await handoff.agents.endSession(req.agentSessionId!);
    req.session.delete();
    req.log.info({ agent: req.agent!.login }, 'agent logged out');
    return { ok: true };
  });

  app.get(`${BASE}/me`, authed, async (req, reply) => {
    const kb = liveValue(opts.kb);
    return {
    agent: me(req),
    csrfToken: await reply.generateCsrf(),
    resolutions: handoff.texts.resolutions,
    canned: handoff.texts.canned.map((c) => c.replace(/\{hotline\}/g, kb.utility.hotline)),
    slots: handoff.texts.slots,
    callbackStatuses: CALLBACK_STATUSES,
    hotline: kb.utility.hotline,
    utility: kb.utility.shortName,
    };
  });

  app.post(`${BASE}/state`, changing, async (req) => {
    const { state } = parse(z.object({ state: z.enum(['online', 'busy', 'away']) }).strict(), req.body);
    const a = await handoff.agents.setState(req.agent!.login, state);
    return { agent: { login: a.login, name: a.name, state: a.state } };
  });

  app.get(`${BASE}/agents`, authed, async () => {
    const all = await handoff.agents.list();
    const present = await Promise.all(all.map((a) => handoff.agents.present(a.login)));
    return { agents: all.map((a, i) => ({ login: a.login, name: a.name, state: a.state, present: present[i] })) };
  });

  app.get(`${BASE}/queue`, authed, async () => ({ items: await handoff.queue() }));

  app.post(`${BASE}/handoffs/:id/claim`, changing, async (req) => {
    const { id } = parse(idParams, req.params);
    const h = await handoff.claim(id, req.agent!.login);
    return handoff.packet(h);
  });

  app.get(`${BASE}/handoffs/:id`, authed, async (req) => {
    const { id } = parse(idParams, req.params);
    return handoff.packet(await handoff.held(id, req.agent!.login));
  });

  app.post(`${BASE}/handoffs/:id/messages`, changing, async (req) => {
    const { id } = parse(idParams, req.params);
    const body = parse(z.object({ text: text(2000) }).strict(), req.body);
    return { messages: await handoff.say(id, req.agent!.login, body.text) };
  });

  app.post(`${BASE}/handoffs/:id/transfer`, changing, async (req) => {
    const { id } = parse(idParams, req.params);
    const body = parse(z.object({ to: text(32), note: z.string().trim().max(500).default('') }).strict(), req.body);
    const h = await handoff.transfer(id, req.agent!.login, body.to.toLowerCase(), body.note);
    return { handoff: { id: h.id, agent: h.agent, transfers: h.transfers } };
  });

  app.post(`${BASE}/handoffs/:id/close`, changing, async (req) => {
    const { id } = parse(idParams, req.params);
    const body = parse(z.object({ resolution: text(40) }).strict(), req.body);
    const h = await handoff.close(id, req.agent!.login, body.resolution);
    return { handoff: { id: h.id, status: h.status, resolution: h.resolution, closedAt: h.closedAt } };
  });

  app.post(`${BASE}/handoffs/:id/reveal`, changing, async (req) => {
    const { id } = parse(idParams, req.params);
    const body = parse(z.object({ field: text(60) }).strict(), req.body);
    return handoff.reveal(id, req.agent!.login, body.field);
  });

  app.get(`${BASE}/callbacks`, authed, async () => ({ callbacks: await handoff.callbacks() }));

  app.post(`${BASE}/callbacks`, changing, async (req) => {
    const body = parse(z.object({ mobile: z.string().max(30), slot: text(40), note: z.string().trim().max(500).optional() }).strict(), req.body);
    const mobile = checkMobile(body.mobile);
    if (!mobile.ok) throw new AppError('INVALID_MOBILE');
    const c = await handoff.createCallback({ mobile: String(mobile.value), slot: body.slot, createdBy: req.agent!.login, ...(body.note ? { note: body.note } : {}) });
    return { callback: { ...c, mobile: maskValue(c.mobile, 3, 4) } };
  });

  app.post(`${BASE}/callbacks/:id/status`, changing, async (req) => {
    const { id } = parse(idParams, req.params);
    const body = parse(z.object({ status: z.enum(['called', 'resolved', 'unreachable']), note: z.string().trim().max(500).optional() }).strict(), req.body);
    const c = await handoff.setCallbackStatus(id, body.status, req.agent!.login, body.note);
    return { callback: { ...c, mobile: maskValue(c.mobile, 3, 4) } };
  });

  app.get(`${BASE}/kb/search`, authed, async (req) => {
    const { q } = parse(z.object({ q: text(200) }), req.query);
    const kb = liveValue(opts.kb);
    const u = liveValue(opts.classifier).classify(q);
    const keys = [...new Set([...(u.itemId ? [`item:${u.itemId}`] : []), ...(u.flowId ? [`flow:${u.flowId}`] : []), ...(u.options ?? []), ...u.candidates])].slice(0, 5);
    const results = keys.flatMap((k): { kind: string; id: string; title: string; text: string }[] => {
      const [kind, id] = k.split(':') as ['item' | 'flow', string];
      if (kind === 'item') {
        const item = kb.items.get(id);
        return item ? [{ kind, id, title: item.title, text: item.answer }] : [];
      }
      const flow = kb.flows.get(id);
      return flow ? [{ kind, id, title: flow.title, text: flow.intro ?? flow.title }] : [];
    });
    return { decision: u.decision, urgent: u.urgent, results };
  });

  app.get(`${BASE}/applications/:ref`, authed, async (req) => {
    const { ref } = parse(z.object({ ref: z.string().regex(/^WS\d{8}-\d{4,}$/i) }), req.params);
    const a = await stores.applications.get(ref.toUpperCase());
    if (!a) throw new AppError('APPLICATION_NOT_FOUND');
    return {
      application: {
        ref: a.ref, title: a.title, status: a.status, statusText: statusText(a.status), submittedAt: a.submittedAt, dueDate: a.dueDate,
        fields: a.fields, items: a.items, mobile: maskValue(a.mobile, 3, 4), nextSteps: a.nextSteps,
        ...(a.commitment ? { commitment: { accepted: a.commitment.accepted, dueBy: a.commitment.dueBy } } : {}),
      },
    };
  });

  app.get(`${BASE}/dashboard`, authed, async () => handoff.dashboard());
}
