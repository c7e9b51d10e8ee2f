import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';

/** Longest text a user may send. */
export const MAX_TEXT = 2000;

const startBody = z.object({ userId: z.string().max(128).optional() }).strict().nullish();
const messageBody = z.union([z.object({ text: z.string() }).strict(), z.object({ postback: z.string().min(1).max(200) }).strict()]);
const idParams = z.object({ id: z.string().min(1).max(100) });
const afterQuery = z.object({ after: z.coerce.number().int().min(0).default(0) });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('BAD_REQUEST', `请求格式不正确：${r.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  return r.data;
}

/** Conversation routes: start, send a message, read the transcript. */
export const conversationRoutes: FastifyPluginAsync<{ service: ConversationService }> = async (app, { service }) => {
  app.post('/api/v1/conversations', async (req, reply) => {
    const body = parse(startBody, req.body);
    const r = await service.start(body?.userId);
    return reply.status(201).send(r);
  });

  app.post('/api/v1/conversations/:id/messages', async (req) => {
    const { id } = parse(idParams, req.params);
    const body = parse(messageBody, req.body);
    if ('text' in body && [...body.text].length > MAX_TEXT) throw new AppError('MESSAGE_TOO_LONG');
    return service.send(id, body);
  });

  app.get('/api/v1/conversations/:id/messages', async (req) => {
    const { id } = parse(idParams, req.params);
    const { after } = parse(afterQuery, req.query);
    return { messages: await service.history(id, after) };
  });
};
