import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';
import { MAX_TEXT, validatePostback, validateText } from '../validate-text.js';

export { MAX_TEXT };

const startBody = z.object({ userId: z.string().max(128).optional() }).strict().nullish();
const messageBody = z.union([z.object({ text: z.string() }).strict(), z.object({ postback: z.string().min(1).max(200) }).strict()]);
const idParams = z.object({ id: z.string().min(1).max(100) });
const afterQuery = z.object({ after: z.coerce.number().int().min(0).default(0) });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  // Field names only: zod's English wording never reaches the user.
  if (!r.success) throw new AppError('BAD_REQUEST', `请求格式不正确（字段：${[...new Set(r.error.issues.map((i) => i.path.join('.') || '请求体'))].join('、')}）`);
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
    if ('text' in body) validateText(body.text);
    else validatePostback(body.postback);
    return service.send(id, body);
  });

  app.get('/api/v1/conversations/:id/messages', async (req) => {
    const { id } = parse(idParams, req.params);
    const { after } = parse(afterQuery, req.query);
    return { messages: await service.history(id, after) };
  });
};
