import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';
import type { AttemptLimiter } from '../../store/index.js';

const params = z.object({ ref: z.string().min(1).max(40) });
const query = z.object({ mobile: z.string().max(20).default('') });

/**
 * Application lookup by reference number and the applicant's mobile. Wrong mobiles are counted per reference
 * number; once locked out, even the right one gets the same 404 as any mismatch, so the lookup is no oracle.
 */
export const applicationRoutes: FastifyPluginAsync<{ service: ConversationService; attempts: AttemptLimiter }> = async (app, { service, attempts }) => {
  app.get('/api/v1/applications/:ref', async (req) => {
    const p = params.safeParse(req.params);
    const q = query.safeParse(req.query);
    if (!p.success || !q.success) throw new AppError('BAD_REQUEST');
    const key = p.data.ref.trim().toUpperCase();
    if (await attempts.blocked(key)) throw new AppError('APPLICATION_NOT_FOUND');
    const found = await service.findApplication(p.data.ref, q.data.mobile);
    if (!found) {
      await attempts.fail(key);
      throw new AppError('APPLICATION_NOT_FOUND');
    }
    await attempts.reset(key);
    return found;
  });
};
