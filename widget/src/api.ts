import type { Lang, Message, Outgoing } from './types.js';

/** A failed API call: HTTP status (0 for a network failure), catalogue code, and whether a retry may succeed. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Network failures, timeouts, 409 busy, 429 and 5xx are worth retrying; other 4xx are not. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500;
  }

  /** The conversation is gone (expired or unknown) or its token no longer opens it. */
  get gone(): boolean {
    return this.code === 'CONVERSATION_NOT_FOUND' || this.status === 401 || this.status === 403;
  }
}

/** A conversation the API created, or the one kept from an earlier visit. */
export interface Conversation {
  conversationId: string;
  /** The conversation's secret; older servers return none. */
  token?: string;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** The REST API of the assistant (docs/architecture.md, "Web transport"). */
export class Api {
  private readonly fetch: FetchLike;

  constructor(
    readonly base: string,
    fetchImpl?: FetchLike,
  ) {
    this.fetch = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Creates a conversation in the given reply language; the greeting comes back in `messages`. */
  start(lang: Lang): Promise<Conversation & { messages: Message[] }> {
    return this.call('POST', '/api/v1/conversations', undefined, { lang });
  }

  /** Sends one message; the replies come back (a repeated clientMessageId returns the stored ones). */
  send(c: Conversation, out: Outgoing, signal?: AbortSignal): Promise<{ messages: Message[] }> {
    return this.call('POST', `/api/v1/conversations/${encodeURIComponent(c.conversationId)}/messages`, c.token, out, signal);
  }

  /** The transcript after `after`; with `wait` (s) the server holds the request until a message exists. */
  async history(c: Conversation, after: number, opts: { wait?: number; limit?: number; signal?: AbortSignal } = {}): Promise<Message[]> {
    const q = new URLSearchParams({ after: String(after) });
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.wait) q.set('wait', String(opts.wait));
    const r = await this.call<{ messages: Message[] }>('GET', `/api/v1/conversations/${encodeURIComponent(c.conversationId)}/messages?${q}`, c.token, undefined, opts.signal);
    return r.messages;
  }

  /** The socket URL of a conversation, catching up after `after`. */
  socketUrl(c: Conversation, after: number): string {
    const u = new URL(`/api/v1/conversations/${encodeURIComponent(c.conversationId)}/socket`, this.base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (c.token) u.searchParams.set('token', c.token);
    u.searchParams.set('after', String(after));
    return u.toString();
  }

  private async call<T>(method: string, path: string, token: string | undefined, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await this.fetch(new URL(path, this.base).toString(), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, credentials: 'omit' });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
    }
    const data = (await res.json().catch(() => null)) as (T & { error?: { code?: string; message?: string } }) | null;
    if (!res.ok || !data) throw new ApiError(res.status, data?.error?.code ?? 'HTTP_' + res.status, data?.error?.message ?? res.statusText);
    return data;
  }
}
