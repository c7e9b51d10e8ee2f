import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/index.js';
import { ApiError, type Api, type Conversation } from '../../widget/src/api.js';
import { Backoff } from '../../widget/src/backoff.js';
import { Connection, type ConnectionEvents, type ConnectionStatus } from '../../widget/src/connection.js';
import { Timeline } from '../../widget/src/timeline.js';
import type { Outgoing } from '../../widget/src/types.js';

const msg = (seq: number, from: Message['from'] = 'bot', text = `m${seq}`): Message => ({ seq, from, at: '2026-10-01T02:00:00.000Z', text });

/** A scriptable WebSocket: the test opens, feeds and drops each one. */
class FakeSocket {
  static all: FakeSocket[] = [];
  static refuse = false;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  sent: Record<string, unknown>[] = [];
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    if (FakeSocket.refuse) setTimeout(() => this.drop(), 1);
  }
  open(): void {
    this.onopen?.();
  }
  push(ev: object): void {
    this.onmessage?.({ data: JSON.stringify(ev) });
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.drop();
  }
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }
  get after(): number {
    return Number(new URL(this.url).searchParams.get('after'));
  }
}

/** A fake REST API over an in-memory transcript; failures can be queued per call kind. */
class FakeApi {
  transcript: Message[] = [];
  posts: Outgoing[] = [];
  sendFailures: ApiError[] = [];
  historyFails = false;
  base = 'http://assistant.test';
  async send(_c: Conversation, out: Outgoing): Promise<{ messages: Message[] }> {
    this.posts.push(out);
    const f = this.sendFailures.shift();
    if (f) throw f;
    const reply = msg(this.transcript.length + 2, 'bot', `re:${'text' in out ? out.text : out.postback}`);
    this.transcript.push(msg(this.transcript.length + 1, 'user', 'text' in out ? out.text : out.postback), reply);
    return { messages: [reply] };
  }
  async history(_c: Conversation, after: number): Promise<Message[]> {
    if (this.historyFails) throw new ApiError(0, 'NETWORK', 'down');
    return this.transcript.filter((m) => m.seq > after);
  }
  socketUrl(c: Conversation, after: number): string {
    return `ws://assistant.test/api/v1/conversations/${c.conversationId}/socket?token=${c.token}&after=${after}`;
  }
}

function setup(opts: { transport?: 'auto' | 'poll'; upgradeIntervalMs?: number } = {}) {
  FakeSocket.all = [];
  FakeSocket.refuse = false;
  const api = new FakeApi();
  const timeline = new Timeline();
  const statuses: ConnectionStatus[] = [];
  const results: { id: string; error?: { code: string } }[] = [];
  let gone = 0;
  const events: ConnectionEvents = {
    onMessages: (m) => void timeline.add(m),
    onTyping: () => undefined,
    onStatus: (s) => void statuses.push(s),
    onSendResult: (id, error) => void results.push({ id, error }),
    onGone: () => void gone++,
  };
  const conn = new Connection({
    api: api as unknown as Api,
    conversation: { conversationId: 'c1', token: 't1' },
    after: () => timeline.contiguous,
    events,
    transport: opts.transport ?? 'auto',
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    backoff: new Backoff(2, 10),
    retryDelays: () => new Backoff(2, 10),
    pollWait: 0,
    pollIdleMs: 5,
    upgradeIntervalMs: opts.upgradeIntervalMs ?? 60_000,
    ackTimeoutMs: 50,
  });
  return { api, timeline, statuses, results, conn, gone: () => gone };
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('Connection over the socket', () => {
  it('catches up after the last seq on every (re)connect, and nothing is shown twice', async () => {
    const { timeline, statuses, conn } = setup();
    conn.start();
    const first = FakeSocket.all[0]!;
    expect(first.url).toContain('token=t1');
    expect(first.after).toBe(0);
    first.open();
    first.push({ type: 'messages', messages: [msg(1), msg(2)] });
    first.drop();
    await until(() => FakeSocket.all.length === 2);
    const second = FakeSocket.all[1]!;
    expect(second.after).toBe(2);
    second.open();
    // The server's catch-up and a late publish of the same seq: the timeline keeps one.
    second.push({ type: 'messages', messages: [msg(2), msg(3)] });
    second.push({ type: 'messages', messages: [msg(3)] });
    expect(timeline.tail(10).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(statuses).toEqual(['online', 'offline', 'connecting', 'online']);
    conn.stop();
  });

  it('queues a message while down and sends it on open; resends an unanswered one after a drop with the same id', async () => {
    const { conn, results } = setup();
    conn.start();
    conn.send({ clientMessageId: 'u1', text: '水费怎么交' });
    const s1 = FakeSocket.all[0]!;
    expect(s1.sent).toEqual([]);
    s1.open();
    expect(s1.sent).toEqual([{ type: 'send', clientMessageId: 'u1', text: '水费怎么交' }]);
    s1.drop();
    await until(() => FakeSocket.all.length === 2);
    const s2 = FakeSocket.all[1]!;
    s2.open();
    expect(s2.sent).toEqual([{ type: 'send', clientMessageId: 'u1', text: '水费怎么交' }]);
    s2.push({ type: 'messages', messages: [msg(2)] });
    expect(results).toEqual([{ id: 'u1', error: undefined }]);
    s2.drop();
    await until(() => FakeSocket.all.length === 3);
    FakeSocket.all[2]!.open();
    expect(FakeSocket.all[2]!.sent).toEqual([]);
    conn.stop();
  });

  it('acknowledges in order by the echo of the user messages when the server publishes them, masked or not', async () => {
    const { conn, results } = setup();
    conn.start();
    const s = FakeSocket.all[0]!;
    s.open();
    conn.send({ clientMessageId: 'a', text: '13812345678' });
    conn.send({ clientMessageId: 'b', text: '张三' });
    s.push({ type: 'messages', messages: [msg(1, 'user', '138****5678'), msg(2)] });
    expect(results.map((r) => r.id)).toEqual(['a']);
    // Once echoes are seen, a reply alone no longer acknowledges anything.
    s.push({ type: 'messages', messages: [msg(3, 'agent')] });
    expect(results.map((r) => r.id)).toEqual(['a']);
    s.push({ type: 'messages', messages: [msg(4, 'user', '张三'), msg(5)] });
    expect(results.map((r) => r.id)).toEqual(['a', 'b']);
    conn.stop();
  });

  it('retries over REST, under the same id, a send the socket leaves unanswered', async () => {
    const { conn, api, results, timeline } = setup();
    conn.start();
    FakeSocket.all[0]!.open();
    conn.send({ clientMessageId: 'slow', text: '报修' });
    await until(() => results.length === 1);
    expect(api.posts).toEqual([{ clientMessageId: 'slow', text: '报修' }]);
    expect(timeline.tail(5).map((m) => m.text)).toEqual(['re:报修']);
    conn.stop();
  });

  it('reports a socket error for a message as final unless it can succeed later', async () => {
    const { conn, results, api } = setup();
    conn.start();
    const s = FakeSocket.all[0]!;
    s.open();
    conn.send({ clientMessageId: 'x', text: '长' });
    s.push({ type: 'error', code: 'MESSAGE_TOO_LONG', message: '消息过长', clientMessageId: 'x' });
    expect(results).toEqual([{ id: 'x', error: { code: 'MESSAGE_TOO_LONG', message: '消息过长' } }]);
    conn.send({ clientMessageId: 'y', text: '忙' });
    s.push({ type: 'error', code: 'CONVERSATION_BUSY', message: '会话正忙', clientMessageId: 'y' });
    await until(() => results.length === 2);
    expect(results[1]).toEqual({ id: 'y', error: undefined });
    expect(api.posts.map((p) => p.clientMessageId)).toEqual(['y']);
    conn.stop();
  });

  it('reconnects at once, without counting a failure, when the server announces a restart', async () => {
    const { conn } = setup();
    conn.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.push({ type: 'reconnect' });
    expect(s.closed).toBe(true);
    await until(() => FakeSocket.all.length === 2);
    conn.stop();
  });
});

describe('Connection falling back to long polling', () => {
  it('polls the REST API when sockets fail but REST answers, and sends over REST', async () => {
    const { conn, api, timeline, results, statuses } = setup();
    FakeSocket.refuse = true;
    api.transcript = [msg(1)];
    conn.start();
    await until(() => statuses.includes('polling'));
    // Two failures, a REST answer, one more failure: sockets are blocked.
    expect(FakeSocket.all.length).toBe(3);
    expect(conn.transport).toBe('poll');
    conn.send({ clientMessageId: 'p1', text: '停水' });
    await until(() => results.length === 1);
    // The reply (seq 3) came with the POST; the user's own message (seq 2) arrives by polling: nothing is missing.
    await until(() => timeline.contiguous === 3);
    expect(timeline.tail(5).map((m) => m.text)).toEqual(['m1', '停水', 're:停水']);
    conn.stop();
  });

  it('goes back to the socket once one opens again', async () => {
    const { conn, statuses } = setup({ upgradeIntervalMs: 20 });
    FakeSocket.refuse = true;
    conn.start();
    await until(() => conn.transport === 'poll');
    FakeSocket.refuse = false;
    const n = FakeSocket.all.length;
    await until(() => FakeSocket.all.length > n);
    FakeSocket.all.at(-1)!.open();
    await until(() => FakeSocket.all.length > n + 1);
    const main = FakeSocket.all.at(-1)!;
    expect(FakeSocket.all[n]!.closed).toBe(true);
    main.open();
    expect(conn.transport).toBe('socket');
    expect(statuses.at(-1)).toBe('online');
    conn.stop();
  });

  it('keeps retrying the socket while the whole server is down, then catches up', async () => {
    const { conn, api, timeline } = setup();
    FakeSocket.refuse = true;
    api.historyFails = true;
    conn.start();
    await until(() => FakeSocket.all.length >= 4);
    expect(conn.transport).toBe('socket');
    // The server is back: the next socket connects (REST works again only once it has).
    FakeSocket.refuse = false;
    await until(() => !FakeSocket.all.at(-1)!.closed);
    const s = FakeSocket.all.at(-1)!;
    api.historyFails = false;
    s.open();
    expect(conn.current).toBe('online');
    s.push({ type: 'messages', messages: [msg(1), msg(2)] });
    expect(timeline.last).toBe(2);
    conn.stop();
  });

  it('retries a REST send under the same id until it succeeds, and gives up on a final error', async () => {
    const { conn, api, results } = setup({ transport: 'poll' });
    conn.start();
    api.sendFailures = [new ApiError(0, 'NETWORK', 'down'), new ApiError(503, 'STORE_UNAVAILABLE', 'x')];
    conn.send({ clientMessageId: 'r1', text: '一' });
    await until(() => results.length === 1);
    expect(api.posts.map((p) => p.clientMessageId)).toEqual(['r1', 'r1', 'r1']);
    expect(results[0]!.error).toBeUndefined();
    api.sendFailures = [new ApiError(400, 'BAD_REQUEST', 'bad')];
    conn.send({ clientMessageId: 'r2', text: '二' });
    await until(() => results.length === 2);
    expect(results[1]!.error).toMatchObject({ code: 'BAD_REQUEST' });
    conn.stop();
  });

  it('reports a conversation that is gone', async () => {
    const { conn, api, gone } = setup({ transport: 'poll' });
    api.history = async () => {
      throw new ApiError(404, 'CONVERSATION_NOT_FOUND', 'gone');
    };
    conn.start();
    await until(() => gone() === 1);
    conn.stop();
  });
});
