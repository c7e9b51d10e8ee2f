import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { MessageBus } from '../../delivery/types.js';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';
import { MAX_TEXT, validatePostback, validateText } from '../../server/validate-text.js';
import type { LongPolls } from './long-poll.js';

export { MAX_TEXT };

const clientMessageId = z.string().min(1).max(100).optional();
const startBody = z.object({ userId: z.string().max(128).optional(), lang: z.enum(['zh', 'en']).optional() }).strict().nullish();
const messageBody = z.union([z.object({ text: z.string(), clientMessageId }).strict(), z.object({ postback: z.string().min(1).max(200), clientMessageId }).strict()]);
const idParams = z.object({ id: z.string().min(1).max(100) });
const historyQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  wait: z.coerce.number().min(0).max(25).default(0),
});

/** Validates a value against a schema, or throws BAD_REQUEST naming the fields. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  // Field names only: zod's English wording never reaches the user.
  if (!r.success) throw new AppError('BAD_REQUEST', `请求格式不正确（字段：${[...new Set(r.error.issues.map((i) => i.path.join('.') || '请求体'))].join('、')}）`);
  return r.data;
}

/** The bearer token of a request (`Authorization: Bearer <token>`), or undefined. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** Throws CONVERSATION_NOT_FOUND for an unknown conversation and UNAUTHORIZED for a missing or wrong token. */
export async function authorizeConversation(service: ConversationService, id: string, token: string | undefined): Promise<void> {
  if (token && (await service.authorize(id, token))) return;
  // Which of the two: an unknown id is 404 either way, so a wrong token says nothing more about it.
  await service.history(id, Number.MAX_SAFE_INTEGER, 1);
  throw new AppError('UNAUTHORIZED');
}

/** Conversation routes: start, send a message, read the transcript (long polling with `wait`). */
export const conversationRoutes: FastifyPluginAsync<{ service: ConversationService; bus?: MessageBus; waits: LongPolls }> = async (app, { service, bus, waits }) => {
  app.post('/api/v1/conversations', async (req, reply) => {
    const body = parse(startBody, req.body);
    const r = await service.start({ ...(body?.userId ? { userId: body.userId } : {}), ...(body?.lang ? { lang: body.lang } : {}) });
    return reply.status(201).send({ conversationId: r.conversationId, token: r.token, messages: r.messages });
  });

  app.post('/api/v1/conversations/:id/messages', async (req) => {
    const { id } = parse(idParams, req.params);
    await authorizeConversation(service, id, bearerToken(req));
    const body = parse(messageBody, req.body);
    if ('text' in body) validateText(body.text);
    else validatePostback(body.postback);
    const { clientMessageId: cmid, ...input } = body;
    return service.send(id, input, cmid ? { clientMessageId: cmid } : {});
  });

  app.get('/api/v1/conversations/:id/messages', async (req, reply) => {
    const { id } = parse(idParams, req.params);
    await authorizeConversation(service, id, bearerToken(req));
    const { after, limit, wait } = parse(historyQuery, req.query);
    const now = await service.history(id, after, limit);
    if (now.length || !wait) return { messages: now };
    await waits.until(id, after, wait * 1000, bus, reply.raw);
    return { messages: await service.history(id, after, limit) };
  });
};
