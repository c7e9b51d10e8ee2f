import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, type ErrorCode } from '../core/index.js';

/** The JSON error body every failure returns. */
export function errorBody(code: ErrorCode, message?: string) {
  return { error: { code, message: message ?? ERRORS[code].message } };
}

/** Maps every error to `{error: {code, message}}` with the right status; never a stack trace. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) {
      if (err.status >= 500) req.log.error({ err: err.cause ?? err }, err.code);
      return reply.status(err.status).send(errorBody(err.code, err.message));
    }
    const e = err as FastifyError;
    if (e.statusCode === 429) return reply.status(429).send(errorBody('RATE_LIMITED'));
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorBody('MESSAGE_TOO_LONG'));
    if (e.validation || e.code?.startsWith('FST_ERR_CTP') || e.statusCode === 400) return reply.status(400).send(errorBody('BAD_REQUEST', `请求格式不正确：${e.message}`));
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL'));
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send(errorBody('NOT_FOUND')));
}

/**
 * Router-level failures (an undecodable URL, a path parameter over maxParamLength) are answered before
 * the error handler runs; without this they would leave in Fastify's own `{error, code, message, statusCode}` shape.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if ((err.statusCode ?? 500) >= 500) void reply.status(500).send(errorBody('INTERNAL'));
  else void reply.status(400).send(errorBody('BAD_REQUEST'));
}
