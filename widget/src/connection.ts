import { ApiError, type Api, type Conversation } from './api.js';
import { Backoff } from './backoff.js';
import { isMessage } from './timeline.js';
import type { Message, Outgoing } from './types.js';

/** How the widget is connected: a live socket, long polling, trying to (re)connect, or down and waiting to retry. */
export type ConnectionStatus = 'connecting' | 'online' | 'polling' | 'offline';

/** What the connection reports to the widget. */
export interface ConnectionEvents {
  /** Messages from the server, possibly seen before (the timeline dedupes by seq). */
  onMessages(messages: Message[]): void;
  onTyping(): void;
  onStatus(status: ConnectionStatus): void;
  /** A sent message was accepted, or failed for good (not retryable). */
  onSendResult(clientMessageId: string, error?: { code: string; message: string }): void;
  /** The conversation no longer exists or the token no longer opens it. */
  onGone(): void;
}

/** Options of a connection. */
export interface ConnectionOptions {
  api: Api;
  conversation: Conversation;
  /** The seq to catch up after (the timeline's contiguous high-water mark). */
  after(): number;
  events: ConnectionEvents;
  /** `auto`: socket, falling back to long polling when sockets fail but REST works. */
  transport?: 'auto' | 'websocket' | 'poll';
  WebSocket?: typeof WebSocket;
  backoff?: Backoff;
  /** Delays between REST retries of one message. */
  retryDelays?: () => Backoff;
  /** Long-poll hold time asked of the server, in seconds. */
  pollWait?: number;
  /** Pause between polls of a server that answers at once instead of holding the request, in ms. */
  pollIdleMs?: number;
  /** While long polling, how often to try a socket again (the proxy or the server may allow it by now), in ms. */
  upgradeIntervalMs?: number;
  /** Time a socket send may go unanswered before it is retried over REST, in ms. */
  ackTimeoutMs?: number;
}

interface OutboxEntry {
  out: Outgoing;
  state: 'queued' | 'socket' | 'rest';
  timer?: ReturnType<typeof setTimeout>;
}

/** Socket failures (without ever opening) after which a working REST API means sockets are blocked: poll instead. */
const SOCKET_FAILURES_BEFORE_POLLING = 2;
const MAX_REST_ATTEMPTS = 8;
/** A socket that lived this long without any data still counts as having worked. */
const HEALTHY_SOCKET_MS = 5000;

/**
 * The widget's link to one conversation: a WebSocket with catch-up by seq and reconnect with backoff, long polling
 * of the REST API as the fallback, and an outbox that resends unanswered messages under the same clientMessageId
 * (the server answers a repeated id with the stored replies, so a retry never doubles a turn).
 */
export class Connection {
  private readonly o: Required<Omit<ConnectionOptions, 'WebSocket'>> & { WebSocket?: typeof WebSocket };
  private mode: 'socket' | 'poll';
  private ws: WebSocket | null = null;
  private wsOpen = false;
  private socketFailures = 0;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pollAbort: AbortController | null = null;
  private readonly outbox = new Map<string, OutboxEntry>();
  private restChain: Promise<void> = Promise.resolve();
  /** The server echoes the user's own messages over the socket (then an echo, not any reply, acknowledges a send). */
  private echoes = false;
  private status: ConnectionStatus = 'connecting';
  private probe: WebSocket | null = null;
  /** The REST API answered after the last socket failure. */
  private restAnswered = false;

  constructor(opts: ConnectionOptions) {
    const WS = opts.WebSocket ?? (typeof WebSocket === 'undefined' ? undefined : WebSocket);
    this.o = { transport: 'auto', backoff: new Backoff(), retryDelays: () => new Backoff(800, 10_000), pollWait: 25, pollIdleMs: 2000, upgradeIntervalMs: 60_000, ackTimeoutMs: 20_000, ...opts, WebSocket: WS };
    this.mode = this.o.transport === 'poll' || !WS ? 'poll' : 'socket';
  }

  /** Opens the socket (or starts polling). */
  start(): void {
    if (this.mode === 'socket') this.connectSocket();
    else void this.pollLoop();
  }

  /** Closes everything; no event fires afterwards. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.pollAbort?.abort();
    this.probe?.close();
    for (const e of this.outbox.values()) clearTimeout(e.timer);
    this.outbox.clear();
    if (this.ws) {
      this.ws.onclose = this.ws.onmessage = this.ws.onerror = this.ws.onopen = null;
      this.ws.close();
    }
  }

  /** Reconnects now if down (the browser came back online, the page became visible). */
  nudge(): void {
    if (this.stopped || this.status !== 'offline') return;
    clearTimeout(this.retryTimer);
    this.o.backoff.reset();
    if (this.mode === 'socket') this.connectSocket();
    else this.pollAbort?.abort();
  }

  /** Sends a message, now or when the connection is back; the result comes through onSendResult. */
  send(out: Outgoing): void {
    if (this.stopped) return;
    const entry: OutboxEntry = this.outbox.get(out.clientMessageId) ?? { out, state: 'queued' };
    this.outbox.set(out.clientMessageId, entry);
    this.dispatch(entry);
  }

  get current(): ConnectionStatus {
    return this.status;
  }

  get transport(): 'socket' | 'poll' {
    return this.mode;
  }

  private setStatus(s: ConnectionStatus): void {
    if (s === this.status) return;
    this.status = s;
    this.o.events.onStatus(s);
  }

  private dispatch(entry: OutboxEntry): void {
    if (this.mode === 'socket' && this.wsOpen && this.ws) {
      entry.state = 'socket';
      this.ws.send(JSON.stringify({ type: 'send', ...entry.out }));
      clearTimeout(entry.timer);
      // No answer in time on an open socket: the same id over REST either runs the turn or returns its replies.
      entry.timer = setTimeout(() => this.viaRest(entry), this.o.ackTimeoutMs);
    } else if (this.mode === 'poll') {
      this.viaRest(entry);
    } else {
      entry.state = 'queued';
    }
  }

  private flush(): void {
    for (const e of this.outbox.values()) if (e.state !== 'rest') this.dispatch(e);
  }

  private acknowledge(id: string, error?: { code: string; message: string }): void {
    const e = this.outbox.get(id);
    if (!e) return;
    clearTimeout(e.timer);
    this.outbox.delete(id);
    this.o.events.onSendResult(id, error);
  }

  /** Sends over REST, one at a time and in order, retrying what may succeed later. */
  private viaRest(entry: OutboxEntry): void {
    if (entry.state === 'rest') return;
    entry.state = 'rest';
    clearTimeout(entry.timer);
    this.restChain = this.restChain.then(() => this.postWithRetry(entry));
  }

  private async postWithRetry(entry: OutboxEntry): Promise<void> {
    const backoff = this.o.retryDelays();
    for (let attempt = 1; !this.stopped && this.outbox.has(entry.out.clientMessageId); attempt++) {
      try {
        const r = await this.o.api.send(this.o.conversation, entry.out);
        if (this.stopped) return;
        this.o.events.onMessages(r.messages);
        this.acknowledge(entry.out.clientMessageId);
        return;
      } catch (err) {
        if (this.stopped) return;
        const e = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
        if (e.gone) return this.o.events.onGone();
        if (!e.retryable || attempt >= MAX_REST_ATTEMPTS) return this.acknowledge(entry.out.clientMessageId, { code: e.code, message: e.message });
        // The socket may come back first and take the message over.
        if (this.mode === 'socket' && this.wsOpen) {
          entry.state = 'queued';
          return this.dispatch(entry);
        }
        await sleep(backoff.next());
      }
    }
  }

  private connectSocket(): void {
    if (this.stopped) return;
    const WS = this.o.WebSocket!;
    this.setStatus('connecting');
    let opened = false;
    let openedAt = 0;
    let data = false;
    let ws: WebSocket;
    try {
      ws = new WS(this.o.api.socketUrl(this.o.conversation, this.o.after()));
    } catch {
      return void this.socketDown(false);
    }
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      openedAt = Date.now();
      this.wsOpen = true;
      this.setStatus('online');
      this.flush();
    };
    ws.onmessage = (ev) => {
      if (!data) (this.socketFailures = 0), this.o.backoff.reset();
      data = true;
      this.onSocketData(ev.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.wsOpen = false;
      // A socket that a proxy accepts and drops at once, before any data, has failed as much as one never opened.
      void this.socketDown(opened && (data || Date.now() - openedAt > HEALTHY_SOCKET_MS));
    };
  }

  private onSocketData(data: unknown): void {
    let ev: { type?: string; messages?: unknown; code?: string; message?: string; clientMessageId?: string };
    try {
      ev = JSON.parse(String(data));
    } catch {
      return;
    }
    if (ev.type === 'messages' && Array.isArray(ev.messages)) {
      const messages = ev.messages.filter(isMessage);
      this.acknowledgeByMessages(messages);
      this.o.events.onMessages(messages);
    } else if (ev.type === 'typing') {
      this.o.events.onTyping();
    } else if (ev.type === 'error') {
      this.onSocketError(ev.code ?? 'INTERNAL', ev.message ?? '', ev.clientMessageId);
    } else if (ev.type === 'reconnect') {
      // A graceful shutdown: come back soon (with jitter), without counting it as a failure.
      this.ws?.close();
    }
  }

  private acknowledgeByMessages(messages: Message[]): void {
    const inFlight = [...this.outbox.values()].filter((e) => e.state === 'socket');
    // The server echoes the user's messages in the order it ran them (masked, so not comparable by text).
    const echoed = messages.filter((x) => x.from === 'user').length;
    if (echoed) this.echoes = true;
    const n = this.echoes ? echoed : messages.some((m) => m.from !== 'user') ? 1 : 0;
    for (const e of inFlight.slice(0, n)) this.acknowledge(e.out.clientMessageId);
  }

  private onSocketError(code: string, message: string, clientMessageId?: string): void {
    const retryable = ['CONVERSATION_BUSY', 'RATE_LIMITED', 'STORE_UNAVAILABLE', 'INTERNAL'].includes(code);
    if (code === 'CONVERSATION_NOT_FOUND' || code === 'UNAUTHORIZED' || code === 'FORBIDDEN') return this.o.events.onGone();
    const entry = clientMessageId ? this.outbox.get(clientMessageId) : undefined;
    if (!entry) return;
    if (retryable) this.viaRest(entry);
    else this.acknowledge(entry.out.clientMessageId, { code, message });
  }

  private async socketDown(opened: boolean): Promise<void> {
    if (this.stopped) return;
    this.setStatus('offline');
    for (const e of this.outbox.values()) if (e.state === 'socket') (clearTimeout(e.timer), (e.state = 'queued'));
    if (opened) this.socketFailures = 0;
    else this.socketFailures++;
    if (opened) this.restAnswered = false;
    let delay = this.o.backoff.next();
    if (this.socketFailures >= SOCKET_FAILURES_BEFORE_POLLING || opened) {
      // Is it the socket or the server? A REST answer tells: catch up now, and poll if sockets keep failing.
      try {
        const messages = await this.o.api.history(this.o.conversation, this.o.after());
        if (this.stopped) return;
        this.o.events.onMessages(messages);
        if (!opened && this.o.transport === 'auto') {
          // Only a socket failing while REST is known to answer means sockets are blocked (not a server just back).
          if (this.restAnswered) return void this.startPolling();
          this.restAnswered = true;
          delay = 0;
        }
      } catch (err) {
        if (err instanceof ApiError && err.gone) return this.o.events.onGone();
        this.restAnswered = false;
      }
    }
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connectSocket(), delay);
  }

  private startPolling(): void {
    this.mode = 'poll';
    this.setStatus('polling');
    this.flush();
    void this.pollLoop();
  }

  private async pollLoop(): Promise<void> {
    const backoff = this.o.backoff;
    // The first read answers at once (catch-up and a working link), later ones are held by the server.
    let first = true;
    let upgradeAt = Date.now() + this.o.upgradeIntervalMs;
    while (!this.stopped && this.mode === 'poll') {
      if (Date.now() >= upgradeAt) {
        upgradeAt = Date.now() + this.o.upgradeIntervalMs;
        this.tryUpgrade();
      }
      const started = Date.now();
      this.pollAbort = new AbortController();
      try {
        const messages = await this.o.api.history(this.o.conversation, this.o.after(), { wait: first ? 0 : this.o.pollWait, signal: this.pollAbort.signal });
        if (this.stopped) return;
        backoff.reset();
        this.setStatus('polling');
        this.o.events.onMessages(messages);
        this.flush();
        // A server that does not hold the request answers at once: do not spin.
        if (!first && !messages.length && Date.now() - started < 1000) await sleep(this.o.pollIdleMs);
        first = false;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof ApiError && err.gone) return this.o.events.onGone();
        if (this.pollAbort.signal.aborted) continue;
        this.setStatus('offline');
        await sleep(backoff.next());
      }
    }
  }

  /** While polling: a socket that opens means sockets work again; switch back to them. */
  private tryUpgrade(): void {
    const WS = this.o.WebSocket;
    if (this.o.transport !== 'auto' || !WS || this.probe) return;
    let probe: WebSocket;
    try {
      probe = new WS(this.o.api.socketUrl(this.o.conversation, this.o.after()));
    } catch {
      return;
    }
    this.probe = probe;
    const done = () => {
      probe.onopen = probe.onclose = probe.onmessage = null;
      this.probe = null;
    };
    probe.onclose = done;
    probe.onopen = () => {
      done();
      probe.close();
      if (this.stopped || this.mode !== 'poll') return;
      this.mode = 'socket';
      this.socketFailures = 0;
      this.pollAbort?.abort();
      this.connectSocket();
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
