import type { FastifyInstance, FastifyRequest } from 'fastify';
import '@fastify/websocket';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { AppError, type Message } from '../core/index.js';
import type { MessageBus } from '../delivery/types.js';
import type { HandoffService } from '../handoff/index.js';
import type { Stores } from '../store/index.js';
import { requireAgent } from './auth.js';

/** Server → console events. */
export type ConsoleEvent =
  | { type: 'queue'; items: Awaited<ReturnType<HandoffService['queue']>> }
  | { type: 'messages'; handoffId: string; messages: Message[] }
  | { type: 'changed' }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' };

const clientEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('watch'), handoffId: z.string().min(1).max(64), after: z.number().int().min(0).default(0) }).strict(),
  z.object({ type: z.literal('unwatch'), handoffId: z.string().min(1).max(64) }).strict(),
  z.object({ type: z.literal('ping') }).strict(),
]);

/** Options of the console socket. */
export interface ConsoleSocketOptions {
  handoff: HandoffService;
  stores: Stores;
  bus?: MessageBus;
  /** Queue refresh period, in ms (changes on other instances show within it). */
  pollMs?: number;
  /** Presence and claim heartbeat period, in ms. */
  heartbeatMs?: number;
}

/** One conversation a console follows: everything after `last`, in seq order, never twice. */
class Watch {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    readonly handoffId: string,
    readonly conversationId: string,
    private last: number,
    private readonly stores: Stores,
    private readonly emit: (e: ConsoleEvent) => void,
    public off: () => void = () => {},
  ) {}
  deliver(messages: Message[] | 'catch-up'): void {
    this.chain = this.chain
      .then(async () => {
        let fresh = messages === 'catch-up' ? [] : messages.filter((m) => m.seq > this.last).sort((a, b) => a.seq - b.seq);
        if (messages !== 'catch-up' && !fresh.length) return;
        if (messages === 'catch-up' || fresh[0]!.seq !== this.last + 1) fresh = await this.stores.transcripts.list(this.conversationId, this.last);
        if (!fresh.length) return;
        this.last = fresh.at(-1)!.seq;
        this.emit({ type: 'messages', handoffId: this.handoffId, messages: fresh });
      })
      .catch(() => undefined);
  }
}

/** `GET /api/v1/agent/socket`: the live queue, and the transcripts of the handoffs the agent watches (resync by seq). */
export async function consoleSocket(app: FastifyInstance, opts: ConsoleSocketOptions): Promise<void> {
  const { handoff, stores, bus } = opts;
  const sockets = new Set<{ socket: WebSocket; login: string; sid: string; watches: Map<string, Watch> }>();
  const send = (socket: WebSocket, e: ConsoleEvent) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(e));
  let snapshot = '';

  async function pushQueue(force = false): Promise<void> {
    if (!sockets.size) return;
    const items = await handoff.queue();
    const json = JSON.stringify(items.map(({ waitingS: _w, ...rest }) => rest));
    if (!force && json === snapshot) return;
    snapshot = json;
    for (const s of sockets) {
      send(s.socket, { type: 'queue', items });
      send(s.socket, { type: 'changed' });
    }
  }
  const onChanged = () => void pushQueue(true).catch(() => undefined);
  handoff.on('changed', onChanged);
  const poll = setInterval(() => void pushQueue().catch(() => undefined), opts.pollMs ?? 1_000);
  const beat = setInterval(() => {
    for (const login of new Set([...sockets].map((s) => s.login))) void handoff.heartbeat(login).catch(() => undefined);
    // A session ended on the server (logout elsewhere, expiry) closes its sockets too.
    for (const s of sockets) {
      void handoff.agents.session(s.sid).then((alive) => {
        if (!alive) s.socket.close(4401, 'session ended');
      }, () => undefined);
    }
  }, opts.heartbeatMs ?? 5_000);
  poll.unref();
  beat.unref();
  app.addHook('preClose', async () => {
    clearInterval(poll);
    clearInterval(beat);
    handoff.off('changed', onChanged);
    for (const s of sockets) s.socket.close(1012, 'server restarting');
  });

  const agentOnly = requireAgent(handoff);
  app.get(
    '/api/v1/agent/socket',
    {
      websocket: true,
      preValidation: async (req: FastifyRequest) => {
        const origin = req.headers.origin;
        if (origin && new URL(origin).host !== req.headers.host) throw new AppError('ORIGIN_NOT_ALLOWED');
        await agentOnly(req);
      },
    },
    (socket, req) => {
      const login = req.agent!.login;
      const entry = { socket, login, sid: req.agentSessionId!, watches: new Map<string, Watch>() };
      sockets.add(entry);
      const emit = (e: ConsoleEvent) => send(socket, e);
      void handoff.heartbeat(login).catch(() => undefined);
      void handoff.queue().then((items) => emit({ type: 'queue', items })).catch(() => undefined);
      socket.on('message', async (data) => {
        const parsed = (() => {
          try {
            return clientEvent.safeParse(JSON.parse(data.toString()));
          } catch {
            return null;
          }
        })();
        if (!parsed?.success) return emit({ type: 'error', code: 'BAD_REQUEST', message: '请求格式不正确' });
        const event = parsed.data;
        if (event.type === 'ping') {
          void handoff.heartbeat(login).catch(() => undefined);
          return emit({ type: 'pong' });
        }
        if (event.type === 'unwatch') {
          entry.watches.get(event.handoffId)?.off();
          entry.watches.delete(event.handoffId);
          return;
        }
        try {
          const h = await handoff.held(event.handoffId, login);
          entry.watches.get(h.id)?.off();
          const w = new Watch(h.id, h.conversationId, event.after, stores, emit);
          w.off = bus ? bus.subscribe(h.conversationId, (messages) => w.deliver(messages)) : () => {};
          entry.watches.set(h.id, w);
          w.deliver('catch-up');
        } catch (err) {
          const e = err instanceof AppError ? err : new AppError('INTERNAL');
          emit({ type: 'error', code: e.code, message: e.message });
        }
      });
      socket.on('close', () => {
        for (const w of entry.watches.values()) w.off();
        sockets.delete(entry);
      });
      socket.on('error', () => undefined);
    },
  );
}
