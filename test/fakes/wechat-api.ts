import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One 客服消息 the fake accepted. */
export interface CustomMessage {
  token: string;
  touser: string;
  content: string;
  at: number;
}

/**
 * A local WeChat API: GET /cgi-bin/token (client_credential, checks appid and secret, issues `tok-<n>`
 * with `expires_in`) and POST /cgi-bin/message/custom/send (checks the access_token: an unknown or revoked
 * one gets errcode 40001, as WeChat answers). Records what it issued and accepted.
 */
export class FakeWechatApi {
  readonly messages: CustomMessage[] = [];
  readonly tokenRequests: number[] = [];
  /** Tokens currently valid. */
  readonly valid = new Set<string>();
  expiresIn = 7200;
  private issued = 0;
  private readonly server: Server;
  url = '';

  constructor(readonly appId: string, readonly appSecret: string) {
    this.server = createServer((req, res) => {
      void this.handle(req).then((body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Revokes every token, as fetching a token elsewhere eventually does. */
  revokeAll(): void {
    this.valid.clear();
  }

  /** Waits until `count` messages were accepted. */
  async waitForMessages(count: number, timeoutMs = 10_000): Promise<CustomMessage[]> {
    const until = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${count} 客服消息; got ${this.messages.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.messages;
  }

  private async handle(req: IncomingMessage): Promise<Record<string, unknown>> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'GET' && url.pathname === '/cgi-bin/token') {
      this.tokenRequests.push(Date.now());
      const q = url.searchParams;
      if (q.get('grant_type') !== 'client_credential' || q.get('appid') !== this.appId) return { errcode: 40013, errmsg: 'invalid appid' };
      if (q.get('secret') !== this.appSecret) return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' };
      const token = `tok-${++this.issued}`;
      this.valid.add(token);
      return { access_token: token, expires_in: this.expiresIn };
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/message/custom/send') {
      const token = url.searchParams.get('access_token') ?? '';
      if (!this.valid.has(token)) return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' };
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { touser?: string; msgtype?: string; text?: { content?: string } };
      if (body.msgtype !== 'text' || !body.touser || !body.text?.content) return { errcode: 44002, errmsg: 'empty post data' };
      if (Buffer.byteLength(body.text.content) > 2048) return { errcode: 45002, errmsg: 'content size out of limit' };
      this.messages.push({ token, touser: body.touser, content: body.text.content, at: Date.now() });
      return { errcode: 0, errmsg: 'ok' };
    }
    return { errcode: 404, errmsg: 'not found' };
  }
}
