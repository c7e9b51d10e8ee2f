import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, fillMessage, type ErrorCode, type Live } from '../core/index.js';

/** Values the catalogue's message templates name (the hotline comes from knowledge/utility.yaml). */
export interface MessageVars {
  /** A function is asked at each error, so a knowledge reload reaches the next message. */
  hotline?: Live<string> | undefined;
}

/** The JSON error body every failure returns. */
export function errorBody(code: ErrorCode, message?: string, vars: MessageVars = {}) {
  return { error: { code, message: fillMessage(message ?? ERRORS[code].message, vars) } };
}

/** The catalogue code, and a more precise Chinese message where one helps, for Fastify's own 4xx errors. */
function frameworkCode(e: FastifyError): [ErrorCode, string?] {
  if (e.statusCode === 429) return ['RATE_LIMITED'];
  if (e.statusCode === 415) return ['UNSUPPORTED_MEDIA_TYPE'];
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return ['MESSAGE_TOO_LONG'];
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) return ['BAD_REQUEST', '请求内容不是有效的 JSON'];
  return ['BAD_REQUEST'];
}

/** Maps every error to `{error: {code, message}}` with the right status and a Chinese message; never a stack trace or library English. */
export function registerErrorHandler(app: FastifyInstance, vars: MessageVars = {}): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) {
      if (err.status >= 500) req.log.error({ err: err.cause ?? err }, err.code);
      return reply.status(err.status).send(errorBody(err.code, err.message, vars));
    }
    const e = err as FastifyError;
    const status = e.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const [code, message] = frameworkCode(e);
      return reply.status(ERRORS[code].status).send(errorBody(code, message, vars));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', undefined, vars));
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

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (malformed request line, headers over the
 * limit): answered with the catalogue body on the raw socket, then closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST';
  const body = JSON.stringify(errorBody(code));
  const status = ERRORS[code].status;
  const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
