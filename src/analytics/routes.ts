import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ConsoleRoutes } from '../agent/index.js';
import { AppError } from '../core/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { EventStore } from '../store/index.js';
import { analyticsPage } from './page-assets.js';
import { buildReport, unansweredCsv, type AnalyticsReport, type ReportCatalog } from './report.js';

/** What the analytics routes need. */
export interface AnalyticsRouteOptions {
  events: EventStore;
  /** The knowledge in use (titles, step order); a function, so a hot reload is seen. */
  knowledge?: () => KnowledgeBase;
  now?: () => Date;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const rangeQuery = z.object({ from: z.string().regex(DAY).optional(), to: z.string().regex(DAY).optional(), days: z.coerce.number().int().min(1).max(366).default(30) });

/** The report's instant range from China-time days: `from` 00:00 to the end of `to`; by default the last `days` days. */
export function rangeOf(q: { from?: string; to?: string; days: number }, now: Date): { from: string; to: string } {
  const toDay = q.to ?? new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
  const end = new Date(Date.parse(`${toDay}T00:00:00+08:00`) + 86_400_000);
  const start = q.from ? new Date(`${q.from}T00:00:00+08:00`) : new Date(end.getTime() - q.days * 86_400_000);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end) throw new AppError('BAD_REQUEST', '日期范围不正确');
  return { from: start.toISOString(), to: end.toISOString() };
}

function catalogOf(kb: KnowledgeBase | undefined): ReportCatalog {
  if (!kb) return {};
  // A single item's own application runs as flow `apply-<item id>`, defined beside the item, not under flows/.
  const flow = (id: string) => kb.flows.get(id) ?? (id.startsWith('apply-') ? kb.applications.get(id.slice('apply-'.length)) : undefined);
  return {
    itemTitle: (id) => kb.items.get(id)?.title,
    flowTitle: (id) => flow(id)?.title,
    flowSteps: (id) => flow(id)?.questions.map((s) => s.id) ?? [],
    stepLabel: (flowId, stepId) => flow(flowId)?.questions.find((s) => s.id === stepId)?.label,
  };
}

/** Report parts by route name. */
const PARTS: Record<string, (r: AnalyticsReport) => unknown> = {
  containment: (r) => r.containment,
  daily: (r) => r.daily,
  top: (r) => ({ items: r.topItems, flows: r.topFlows }),
  rates: (r) => r.rates,
  handoffs: (r) => r.handoffReasons,
  csat: (r) => r.csat,
  applications: (r) => r.applications,
  funnel: (r) => r.funnel,
  unanswered: (r) => r.unanswered,
};

/** `/api/v1/analytics/*` (JSON, CSV) and the `/agent/analytics` page, for logged-in agents and admins (inside the agent console). */
export function analyticsRoutes(o: AnalyticsRouteOptions): ConsoleRoutes {
  const now = o.now ?? (() => new Date());

  async function report(req: FastifyRequest): Promise<AnalyticsReport> {
    const q = rangeQuery.safeParse(req.query);
    if (!q.success) throw new AppError('BAD_REQUEST');
    const range = rangeOf(q.data, now());
    const events = await o.events.list(range);
    const r = buildReport(events, { now: now(), catalog: catalogOf(o.knowledge?.()) });
    return { ...r, range: { ...range, events: events.length } };
  }

  return async (app, guards) => {
    const authed = { preHandler: guards.agent };
    app.get('/api/v1/analytics/report', authed, report);
    app.get('/api/v1/analytics/unanswered.csv', authed, async (req, reply) => {
      const r = await report(req);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="unanswered-${r.range.from!.slice(0, 10)}.csv"`).send(unansweredCsv(r.unanswered));
    });
    app.get('/api/v1/analytics/:part', authed, async (req) => {
      const part = PARTS[(req.params as { part: string }).part];
      if (!part) throw new AppError('NOT_FOUND');
      return part(await report(req));
    });
    // The page itself: without a console session, a page that says where to log in (not the JSON error).
    app.get('/agent/analytics', async (req, reply) => {
      try {
        await guards.agent(req);
      } catch {
        return deny(reply);
      }
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(analyticsPage.html);
    });
    app.get('/agent/analytics/app.css', authed, async (_req, reply) => reply.type('text/css; charset=utf-8').send(analyticsPage.css));
    app.get('/agent/analytics/app.js', authed, async (_req, reply) => reply.type('application/javascript; charset=utf-8').send(await analyticsPage.script()));
  };
}

function deny(reply: FastifyReply) {
  return reply.status(401).type('text/html; charset=utf-8').send('<!doctype html><meta charset="utf-8"><title>需要登录</title><p>请先在<a href="/agent">坐席控制台</a>登录，再打开此页面。</p>');
}
