import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { channelOf } from '../channels/types.js';
import type { ConversationService } from '../conversation/index.js';
import { AppError, type Application, type Logger } from '../core/index.js';
import { statusText } from '../dialogue/index.js';
import type { Stores } from '../store/index.js';
import { checkSignature } from './signature.js';

/** Channels where the resident is told of a status change (they cannot watch a page). */
const PUSH_CHANNELS = new Set(['telegram', 'wechat']);

/** What the back-office routes need. */
export interface BackofficeRouteOptions {
  stores: Pick<Stores, 'applications'>;
  service: Pick<ConversationService, 'post'>;
  logger: Logger;
  /** BACKOFFICE_SECRET: without it the status route is not registered. */
  secret?: string;
}

const statusBody = z.object({
  status: z.enum(['submitted', 'accepted', 'completed', 'cancelled']),
  note: z.string().trim().max(500).optional(),
});
const refParam = z.object({ ref: z.string().regex(/^WS\d{8}-\d{4,}$/i) });

type Raw = FastifyRequest & { rawBody?: string };

/** The message a resident gets on their channel when the back office changes a status. */
export function statusMessage(app: Application): string {
  return [`您的办件 ${app.ref}（${app.title}）有新进展：${statusText(app.status)}。`, app.statusNote ? `说明：${app.statusNote}` : ''].filter(Boolean).join('\n');
}

/** Signed status updates from the back office (raw body kept for the signature, so JSON is parsed here). */
async function statusRoutes(app: FastifyInstance, o: BackofficeRouteOptions & { secret: string }): Promise<void> {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    (req as Raw).rawBody = String(body);
    try {
      done(null, body === '' ? {} : JSON.parse(String(body)));
    } catch {
      // Parsed after the signature check would be nicer, but a body that is not JSON is refused either way.
      done(new AppError('BAD_REQUEST', '请求内容不是有效的 JSON'), undefined);
    }
  });
  app.post('/api/v1/backoffice/applications/:ref/status', async (req) => {
    const why = checkSignature(o.secret, (req as Raw).rawBody ?? '', req.headers['x-timestamp'], req.headers['x-signature']);
    if (why) {
      req.log.warn({ why }, 'back-office status update refused');
      throw new AppError('BAD_SIGNATURE');
    }
    const p = refParam.safeParse(req.params);
    const b = statusBody.safeParse(req.body);
    if (!p.success || !b.success) throw new AppError('BAD_REQUEST');
    const ref = p.data.ref.toUpperCase();
    const before = await o.stores.applications.get(ref);
    if (!before) throw new AppError('APPLICATION_NOT_FOUND');
    const note = b.data.note || undefined;
    const changed = before.status !== b.data.status || (before.statusNote ?? undefined) !== note;
    const updated = changed ? await o.stores.applications.updateStatus(ref, b.data.status, note) : before;
    if (!updated) throw new AppError('APPLICATION_NOT_FOUND');
    const notified = changed ? await notify(o, updated, req.log as Logger) : false;
    req.log.info({ ref, status: updated.status, changed, notified }, 'back-office status update');
    return { ref, status: updated.status, changed, notified };
  });
}

/** Tells the resident on Telegram or WeChat; a conversation gone or a failing channel is logged, the update stands. */
async function notify(o: BackofficeRouteOptions, app: Application, log: Logger): Promise<boolean> {
  if (!PUSH_CHANNELS.has(channelOf(app.conversationId))) return false;
  try {
    await o.service.post(app.conversationId, [{ from: 'system', text: statusMessage(app) }]);
    return true;
  } catch (err) {
    log.warn({ ref: app.ref, err: (err as Error).message }, 'status update not delivered to the resident');
    return false;
  }
}

/** The back office's own routes: signed status updates, when BACKOFFICE_SECRET is set (the outbox admin is in the console). */
export const backofficeRoutes: FastifyPluginAsync<BackofficeRouteOptions> = async (app, o) => {
  const { secret } = o;
  if (secret) await app.register(async (scope) => statusRoutes(scope, { ...o, secret }));
};
