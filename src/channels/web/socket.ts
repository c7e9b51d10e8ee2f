import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import '@fastify/websocket';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { AppError, ERRORS, fillMessage, type Live, type Message } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';
import type { MessageBus } from '../../delivery/types.js';
import { MAX_TEXT, parse } from './routes.js';

const PAGE = 500;
const HEARTBEAT_MS = 30_000;
/** Client events one socket may have waiting; more is a flood. */
const MAX_QUEUED = 8;

const socketQuery = z.object({ token: z.string().min(1).max(200), after: z.coerce.number().int().min(0).default(0) });
const clientEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('send'), text: z.string().optional(), postback: z.string().min(1).max(200).optional(), clientMessageId: z.string().min(1).max(100).optional() }).strict(),
  z.object({ type: z.literal('ping') }).strict(),
]);

/** Server → client events of the widget socket (docs/architecture.md, web transport). */
export type ServerEvent =
  | { type: 'messages'; messages: Message[] }
  | { type: 'typing' }
  | { type: 'error'; code: string; message: string; clientMessageId?: string }
  | { type: 'reconnect' }
  | { type: 'pong' };

/** One connected widget: sends every message after the last seq it has, in order, never twice. */
class Connection {
  private last: number;
  private chain: Promise<void> = Promise.resolve();
  private alive = true;
  private inbox: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly conversationId: string,
    after: number,
    private readonly service: ConversationService,
    private readonly log: FastifyBaseLogger,
    private readonly hotline?: Live<string>,
  ) {
    this.last = after;
  }

  emit(event: ServerEvent): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(event));
  }

  /** Queues a delivery: published or returned messages; a gap (a missed publish) is filled from the transcript. */
  deliver(messages: Message[] | 'catch-up'): Promise<void> {
    this.chain = this.chain.then(() => this.deliverNow(messages)).catch((err: Error) => this.log.warn({ err: err.message }, 'socket delivery failed'));
    return this.chain;
  }

  private async deliverNow(messages: Message[] | 'catch-up'): Promise<void> {
    let fresh = messages === 'catch-up' ? [] : messages.filter((m) => m.seq > this.last).sort((a, b) => a.seq - b.seq);
    if (messages !== 'catch-up' && !fresh.length) return;
    if (messages === 'catch-up' || fresh[0]!.seq !== this.last + 1 || fresh.some((m, i) => i > 0 && m.seq !== fresh[i - 1]!.seq + 1)) {
      fresh = [];
      for (let from = this.last; ; ) {
        const page = await this.service.history(this.conversationId, from, PAGE);
        fresh.push(...page);
        if (page.length < PAGE) break;
        from = page.at(-1)!.seq;
      }
    }
    if (!fresh.length) return;
    this.last = fresh.at(-1)!.seq;
    this.emit({ type: 'messages', messages: fresh });
  }

  /** Queues a client event: one socket's messages run in the order sent; a flooding client gets RATE_LIMITED. */
  receive(raw: string): void {
    if (this.queued >= MAX_QUEUED) return this.error(new AppError('RATE_LIMITED'));
    this.queued++;
    this.inbox = this.inbox.then(() => this.onEvent(raw)).finally(() => void this.queued--);
  }

  /** Runs one client event: a message for the pipeline, or a ping. */
  private async onEvent(raw: string): Promise<void> {
    let event: z.infer<typeof clientEvent>;
    try {
      event = parse(clientEvent, JSON.parse(raw));
    } catch (err) {
      return this.error(err instanceof AppError ? err : new AppError('BAD_REQUEST'));
    }
    if (event.type === 'ping') return this.emit({ type: 'pong' });
    const { text, postback, clientMessageId } = event;
    if ((text === undefined) === (postback === undefined)) return this.error(new AppError('BAD_REQUEST', '请求格式不正确：需要 text 或 postback 之一'), clientMessageId);
    if (text !== undefined && [...text].length > MAX_TEXT) return this.error(new AppError('MESSAGE_TOO_LONG'), clientMessageId);
    this.emit({ type: 'typing' });
    try {
      const r = await this.service.send(this.conversationId, text !== undefined ? { text } : { postback: postback! }, clientMessageId ? { clientMessageId } : {});
      // Normally the bus brings them first; this covers a bus that is down or slow (the filter drops repeats).
      await this.deliver(r.messages);
    } catch (err) {
      this.error(err, clientMessageId);
    }
  }

  private error(err: unknown, clientMessageId?: string): void {
    const e = err instanceof AppError ? err : new AppError('INTERNAL', undefined, { cause: err });
    if (e.status >= 500) this.log.error({ err: e.cause ?? e, code: e.code }, 'socket turn failed');
    this.emit({ type: 'error', code: e.code, message: fillMessage(e.message || ERRORS[e.code].message, { hotline: this.hotline }), ...(clientMessageId ? { clientMessageId } : {}) });
  }

  /** Pings the client; a client that did not answer the last ping is gone. */
  heartbeat(): void {
    if (!this.alive) return void this.socket.terminate();
    this.alive = false;
    this.socket.ping();
  }

  pong(): void {
    this.alive = true;
  }
}

/** Options of the socket route. */
export interface SocketRouteOptions {
  service: ConversationService;
  bus?: MessageBus;
  /** Checks the request before the upgrade (Origin); throws an AppError to refuse. */
  check: (req: FastifyRequest) => void;
  /** Fills `{hotline}` in error messages (STORE_UNAVAILABLE, INTERNAL). */
  hotline?: Live<string>;
}

/** `GET /api/v1/conversations/:id/socket?token=&after=`: catch-up, then every published message; sends go through the pipeline. */
export async function socketRoute(app: FastifyInstance, opts: SocketRouteOptions): Promise<void> {
  const { service, bus } = opts;
  const open = new Set<WebSocket>();
  const timer = setInterval(() => open.forEach((s) => connections.get(s)?.heartbeat()), HEARTBEAT_MS);
  timer.unref();
  const connections = new WeakMap<WebSocket, Connection>();

  // The server's websocket preClose tells every socket to reconnect and closes it.
  app.addHook('onClose', async () => clearInterval(timer));

  app.get(
    '/api/v1/conversations/:id/socket',
    {
      websocket: true,
      preValidation: async (req) => {
        opts.check(req);
        const { id } = parse(z.object({ id: z.string().min(1).max(100) }), req.params);
        const { token } = parse(socketQuery, req.query);
        if (!(await service.authorize(id, token))) {
          await service.history(id, Number.MAX_SAFE_INTEGER, 1); // 404 for an unknown conversation
          throw new AppError('UNAUTHORIZED');
        }
      },
    },
    (socket, req) => {
      const { id } = req.params as { id: string };
      const { after } = parse(socketQuery, req.query);
      const log = req.log.child({ conversationId: id, socket: true });
      const conn = new Connection(socket, id, after, service, log, opts.hotline);
      connections.set(socket, conn);
      open.add(socket);
      const off = bus ? bus.subscribe(id, (messages) => void conn.deliver(messages)) : () => {};
      void conn.deliver('catch-up');
      socket.on('message', (data, isBinary) => {
        if (isBinary) return conn.emit({ type: 'error', code: 'BAD_REQUEST', message: ERRORS.BAD_REQUEST.message });
        conn.receive(data.toString());
      });
      socket.on('pong', () => conn.pong());
      socket.on('close', () => {
        off();
        open.delete(socket);
      });
      socket.on('error', (err) => log.warn({ err: err.message }, 'socket error'));
    },
  );
}
