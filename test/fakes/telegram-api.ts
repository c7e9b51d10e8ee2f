import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Bot API call the fake received. */
export interface TelegramCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
}

/** A scripted failure: the next `times` calls of `method` answer this error. */
interface Failure {
  method: string;
  times: number;
  status: number;
  description: string;
  retryAfter?: number;
}

/**
 * A local Bot API server speaking Telegram's JSON (`{ok, result}` / `{ok:false, error_code, description,
 * parameters}`) on `/bot<token>/<method>`, for grammY's `client.apiRoot`. It records every call, answers
 * getMe, sendMessage, answerCallbackQuery, setWebhook/deleteWebhook, serves queued updates to getUpdates
 * (long polling), and can fail a method with 429 + retry_after.
 */
export class FakeTelegramApi {
  readonly calls: TelegramCall[] = [];
  private readonly server: Server;
  private readonly failures: Failure[] = [];
  private readonly drops = new Map<string, { skip: number; times: number }>();
  private readonly updates: Record<string, unknown>[] = [];
  private readonly waiting = new Set<() => void>();
  private nextMessageId = 1;
  url = '';

  constructor(readonly token = '123456:TEST-token') {
    this.server = createServer((req, res) => {
      const method = /^\/bot[^/]+\/(\w+)/.exec(req.url ?? '')?.[1] ?? '';
      const drop = this.drops.get(method);
      if (drop && drop.skip > 0) drop.skip--;
      else if (drop && drop.times > 0) {
        // Telegram unreachable mid-call: the connection dies without an answer (the call is not recorded).
        drop.times--;
        req.socket.destroy();
        return;
      }
      void this.handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
        () => {
          res.writeHead(500).end();
        },
      );
    });
  }

  /** Listens on a free port; `url` is the apiRoot to give grammY. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const wake of this.waiting) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the next `times` calls of `method` fail like Telegram's flood control. */
  failNext(method: string, opts: { times?: number; status?: number; retryAfter?: number; description?: string } = {}): void {
    this.failures.push({ method, times: opts.times ?? 1, status: opts.status ?? 429, retryAfter: opts.retryAfter, description: opts.description ?? `Too Many Requests: retry after ${opts.retryAfter ?? 0}` });
  }

  /** After `skip` good calls, makes the next `times` calls of `method` die on the network (socket closed, no answer). */
  dropNext(method: string, times = 1, skip = 0): void {
    this.drops.set(method, { skip, times });
  }

  /** Queues an update for getUpdates (long polling). */
  pushUpdate(update: Record<string, unknown>): void {
    this.updates.push(update);
    for (const wake of this.waiting) wake();
  }

  /** Recorded calls of one method. */
  sent(method = 'sendMessage'): TelegramCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Waits until `count` calls of `method` were recorded (or fails after `timeoutMs`). */
  async waitFor(method: string, count: number, timeoutMs = 10_000): Promise<TelegramCall[]> {
    const until = Date.now() + timeoutMs;
    while (this.sent(method).length < count) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${count} × ${method}; got ${this.sent(method).length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.sent(method);
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    if (!m) return { status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } };
    if (m[1] !== this.token) return { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } };
    const method = m[2]!;
    const body = await readJson(req);
    this.calls.push({ method, body, at: Date.now() });
    const failure = this.failures.find((f) => f.method === method && f.times > 0);
    if (failure) {
      failure.times--;
      return {
        status: failure.status,
        body: { ok: false, error_code: failure.status, description: failure.description, ...(failure.retryAfter !== undefined ? { parameters: { retry_after: failure.retryAfter } } : {}) },
      };
    }
    return { status: 200, body: { ok: true, result: await this.result(method, body) } };
  }

  private async result(method: string, body: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'getMe':
        return { id: 123456, is_bot: true, first_name: 'Water Assistant', username: 'water_test_bot', can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false };
      case 'sendMessage':
        if (typeof body.text !== 'string' || !body.text) throw new Error('sendMessage without text');
        return { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: Number(body.chat_id), type: 'private' }, text: body.text };
      case 'getUpdates':
        return this.takeUpdates(body);
      default:
        return true;
    }
  }

  /** getUpdates: drops confirmed updates (offset), waits up to `timeout` s for new ones. */
  private async takeUpdates(body: Record<string, unknown>): Promise<unknown[]> {
    const offset = Number(body.offset ?? 0);
    const pending = () => this.updates.filter((u) => Number(u.update_id) >= offset);
    if (!pending().length && Number(body.timeout ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiting.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(Number(body.timeout), 2) * 1000);
        this.waiting.add(wake);
      });
    }
    return pending();
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}
