import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature } from '../../src/backoffice/index.js';

/** One request the fake back office received. */
export interface BackofficeCall {
  body: string;
  json: { id: string; kind: string; attempt: number; createdAt: string; data: Record<string, unknown> };
  headers: IncomingMessage['headers'];
  /** Why the signature was refused, or null. */
  signatureError: string | null;
  status: number;
}

/**
 * A local stand-in for the utility's business system: checks every request's HMAC signature (401 when wrong),
 * answers `failFirst` requests with 500 (then 200), or `status` forever; records each call.
 */
export class FakeBackoffice {
  readonly calls: BackofficeCall[] = [];
  private readonly server: Server;
  url = '';
  failFirst = 0;
  /** When set, every answer has this status. */
  status?: number;

  constructor(readonly secret: string) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const signatureError = checkSignature(this.secret, body, req.headers['x-timestamp'], req.headers['x-signature']);
        const served = this.calls.length;
        const status = signatureError ? 401 : (this.status ?? (served < this.failFirst ? 500 : 200));
        let json: BackofficeCall['json'];
        try {
          json = JSON.parse(body) as BackofficeCall['json'];
        } catch {
          json = { id: '', kind: '', attempt: 0, createdAt: '', data: {} };
        }
        this.calls.push({ body, json, headers: req.headers, signatureError, status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status === 200 }));
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/intake`;
    return this;
  }

  /** Calls that were answered 200. */
  accepted(): BackofficeCall[] {
    return this.calls.filter((c) => c.status === 200);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
