import { z } from 'zod';
import type { ConsoleRoutes } from '../agent/index.js';
import { AppError } from '../core/index.js';
import type { Stores } from '../store/index.js';

const idParam = z.object({ id: z.string().min(1).max(200) });
const listQuery = z.object({ state: z.enum(['dead']).default('dead'), limit: z.coerce.number().int().min(1).max(500).default(100) });

/**
 * Dead letters behind the console login, admins only (403 for agents, 401 without a session): list, inspect, and replay
 * (with the session's CSRF token). Registered inside the agent console (`agentConsole({ routes })`).
 */
export function outboxAdminRoutes(o: { stores: Pick<Stores, 'outbox'> }): ConsoleRoutes {
  return async (app, guards) => {
    app.get('/api/v1/backoffice/outbox', { preHandler: guards.admin }, async (req) => {
      const q = listQuery.safeParse(req.query);
      if (!q.success) throw new AppError('BAD_REQUEST');
      return { counts: await o.stores.outbox.counts(), entries: await o.stores.outbox.dead(q.data.limit) };
    });
    app.get('/api/v1/backoffice/outbox/:id', { preHandler: guards.admin }, async (req) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) throw new AppError('BAD_REQUEST');
      const found = await o.stores.outbox.get(p.data.id);
      if (!found) throw new AppError('OUTBOX_ENTRY_NOT_FOUND', '未找到该条目');
      return found;
    });
    app.post('/api/v1/backoffice/outbox/:id/replay', { preHandler: [guards.admin, guards.csrf] }, async (req) => {
      const p = idParam.safeParse(req.params);
      if (!p.success) throw new AppError('BAD_REQUEST');
      if (!(await o.stores.outbox.replay(p.data.id))) throw new AppError('OUTBOX_ENTRY_NOT_FOUND');
      req.log.info({ outboxId: p.data.id, agent: req.agent!.login }, 'dead outbox entry replayed');
      return { id: p.data.id, replayed: true };
    });
  };
}
