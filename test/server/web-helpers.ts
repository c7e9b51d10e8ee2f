import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import type { Message } from '../../src/core/index.js';

/** A server event as the widget receives it. */
export type Event = { type: string; messages?: Message[]; code?: string; clientMessageId?: string };

/** A widget socket: every event it received, and waits on them. */
export class Widget {
  readonly events: Event[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.events.push(JSON.parse(data.toString()) as Event);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Opens a socket; rejects with the HTTP status when the server refuses the upgrade. */
  static open(base: string, id: string, token: string, opts: { after?: number; origin?: string } = {}): Promise<Widget> {
    const url = `${base.replace(/^http/, 'ws')}/api/v1/conversations/${encodeURIComponent(id)}/socket?token=${encodeURIComponent(token)}&after=${opts.after ?? 0}`;
    const ws = new WebSocket(url, opts.origin ? { origin: opts.origin } : {});
    const widget = new Widget(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(widget));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Every message received, in order of arrival. */
  get messages(): Message[] {
    return this.events.flatMap((e) => (e.type === 'messages' ? e.messages! : []));
  }

  send(event: object): void {
    this.ws.send(JSON.stringify(event));
  }

  /** Waits until `done` holds for the events received, or fails after `ms`. */
  async until(done: (w: Widget) => boolean, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done(this)) {
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) throw new Error(`widget wait timed out; events: ${JSON.stringify(this.events).slice(0, 600)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  /** Waits for a message with seq ≥ `seq`. */
  untilSeq(seq: number, ms?: number): Promise<void> {
    return this.until((w) => w.messages.some((m) => m.seq >= seq), ms);
  }

  close(): void {
    this.ws.close();
  }
}

/** Listens on a random port of 127.0.0.1 and returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}
