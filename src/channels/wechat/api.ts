import type { Logger } from '../../core/index.js';
import type { SessionStore } from '../../store/index.js';

/** Refresh the access_token this long before WeChat says it expires (WeChat keeps the old one valid 5 min). */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
/** errcodes meaning the access_token is invalid or expired: fetch a new one and retry once. */
const TOKEN_ERRORS = new Set([40001, 40014, 42001]);

/** An error answered by the WeChat API (`errcode`, `errmsg`) or by its transport. */
export class WechatApiError extends Error {
  override readonly name = 'WechatApiError';
  constructor(message: string, readonly errcode?: number) {
    super(message);
  }
}

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is refreshed. */
  refreshAt: number;
}

/** Options of the API client. */
export interface WechatApiOptions {
  appId: string;
  appSecret: string;
  /** https://api.weixin.qq.com by default; tests point it at a local fake. */
  apiBase?: string;
  logger: Logger;
  /** Shares the token between instances (each fetch invalidates the previous token within 5 min). */
  sessions?: SessionStore;
  now?: () => number;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
}

/**
 * The 客服消息 API and the access_token it needs: the token is fetched from /cgi-bin/token, cached (in the
 * process and, when given, the session store under `wxtoken:<appId>`), refreshed 5 minutes before it
 * expires, fetched once for concurrent callers, and renewed when WeChat says it is invalid.
 */
export class WechatApi {
  private readonly base: string;
  private readonly now: () => number;
  private cached?: CachedToken;
  private inflight?: Promise<string>;

  constructor(private readonly opts: WechatApiOptions) {
    this.base = (opts.apiBase ?? 'https://api.weixin.qq.com').replace(/\/+$/, '');
    this.now = opts.now ?? Date.now;
  }

  private get storeKey(): string {
    return `wxtoken:${this.opts.appId}`;
  }

  /** A valid access_token, fetching a new one when the cached one is near its expiry. */
  async accessToken(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.token;
    const shared = await this.opts.sessions?.get<CachedToken>(this.storeKey).catch(() => null);
    if (shared && this.now() < shared.state.refreshAt) {
      this.cached = shared.state;
      return shared.state.token;
    }
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const url = `${this.base}/cgi-bin/token?grant_type=client_credential&appid=${encodeURIComponent(this.opts.appId)}&secret=${encodeURIComponent(this.opts.appSecret)}`;
    const body = await this.request(url);
    if (typeof body.access_token !== 'string' || !body.access_token) throw new WechatApiError(`token: ${String(body.errmsg ?? 'no access_token')}`, num(body.errcode));
    const expiresMs = (num(body.expires_in) ?? 7200) * 1000;
    const token: CachedToken = { token: body.access_token, refreshAt: this.now() + Math.max(expiresMs - TOKEN_REFRESH_MARGIN_MS, expiresMs / 2) };
    this.cached = token;
    await this.opts.sessions?.set(this.storeKey, { schemaVersion: 1, state: token, updatedAt: new Date(this.now()).toISOString() }).catch(() => undefined);
    this.opts.logger.info({ channel: 'wechat', expiresInS: expiresMs / 1000 }, 'wechat access_token refreshed');
    return token.token;
  }

  /** Drops a token WeChat refused, so the next call fetches a new one. */
  private async invalidate(token: string): Promise<void> {
    if (this.cached?.token === token) this.cached = undefined;
    const shared = await this.opts.sessions?.get<CachedToken>(this.storeKey).catch(() => null);
    if (shared?.state.token === token) await this.opts.sessions?.delete(this.storeKey).catch(() => undefined);
  }

  /** Sends one text through the 客服消息 API (POST /cgi-bin/message/custom/send). */
  async sendText(openid: string, content: string): Promise<void> {
    const payload = JSON.stringify({ touser: openid, msgtype: 'text', text: { content } });
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const body = await this.request(`${this.base}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`, payload);
      const errcode = num(body.errcode) ?? 0;
      if (errcode === 0) return;
      if (TOKEN_ERRORS.has(errcode) && attempt === 0) {
        await this.invalidate(token);
        continue;
      }
      throw new WechatApiError(`custom/send: ${String(body.errmsg ?? errcode)}`, errcode);
    }
  }

  private async request(url: string, json?: string): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: json ? 'POST' : 'GET',
        ...(json ? { body: json, headers: { 'content-type': 'application/json; charset=utf-8' } } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
    } catch (err) {
      throw new WechatApiError(`WeChat API unreachable: ${(err as Error).message}`);
    }
    if (!res.ok) throw new WechatApiError(`WeChat API answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => null)) as unknown;
    if (!body || typeof body !== 'object') throw new WechatApiError('WeChat API answered no JSON');
    return body as Record<string, unknown>;
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
