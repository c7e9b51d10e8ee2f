import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';

const params = z.object({ ref: z.string().min(1).max(40) });
const query = z.object({ mobile: z.string().max(20).default('') });

/** Application lookup by reference number and the applicant's mobile; the same 404 for either mismatch. */
export const applicationRoutes: FastifyPluginAsync<{ service: ConversationService }> = async (app, { service }) => {
  app.get('/api/v1/applications/:ref', async (req) => {
    const p = params.safeParse(req.params);
    const q = query.safeParse(req.query);
    if (!p.success || !q.success) throw new AppError('BAD_REQUEST');
    const found = await service.findApplication(p.data.ref, q.data.mobile);
    if (!found) throw new AppError('APPLICATION_NOT_FOUND');
    return found;
  });
};
