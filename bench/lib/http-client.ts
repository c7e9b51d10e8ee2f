// A lean HTTP/1.1 client over keep-alive sockets for the load driver. node:http's client costs about three times
// the CPU per request of autocannon's, and on a small machine the driver's CPU is taken from the server under test;
// this one writes each request in one piece and reads content-length or chunked bodies, which is all fastify sends.
import { connect, type Socket } from 'node:net';

/** One HTTP exchange as the driver sees it. */
export interface Exchange {
  status: number;
  body: string;
  /** From writing the request to the last byte of the response, in ms. */
  ms: number;
}

/** A keep-alive HTTP client for one base URL, with at most `connections` sockets. */
export interface HttpClient {
  send(method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<Exchange>;
  /** Closes every socket. */
  close(): void;
}

interface Pending {
  resolve: (x: Exchange) => void;
  reject: (err: Error) => void;
  started: number;
  timer: NodeJS.Timeout;
}

/** A parsed response, or null while bytes are missing. */
function parseResponse(buf: Buffer): { status: number; body: string; close: boolean; length: number } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection:\s*close/i.test(head);
  const start = headEnd + 4;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) {
    const end = start + Number(length[1]);
    return buf.length < end ? null : { status, body: buf.toString('utf8', start, end), close, length: end };
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) return { status, body: '', close, length: start };
  const parts: Buffer[] = [];
  for (let at = start; ; ) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (size === 0) return buf.length < lineEnd + 4 ? null : { status, body: Buffer.concat(parts).toString('utf8'), close, length: lineEnd + 4 };
    if (buf.length < lineEnd + 2 + size + 2) return null;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Creates the client. */
export function createHttpClient(baseUrl: string, connections: number, timeoutMs = 10_000): HttpClient {
  const { hostname, port, host } = new URL(baseUrl);
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  const waiting: ((c: Connection) => void)[] = [];

  class Connection {
    private readonly socket: Socket;
    private buf: Buffer | null = null;
    private pending: Pending | null = null;
    dead = false;

    constructor() {
      this.socket = connect({ host: hostname, port: Number(port), noDelay: true });
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.on('error', (err) => this.fail(err));
      this.socket.on('close', () => this.fail(new Error('connection closed by the server')));
      all.add(this);
    }

    request(raw: string): Promise<Exchange> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => this.fail(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
        this.pending = { resolve, reject, started: performance.now(), timer };
        this.socket.write(raw);
      });
    }

    private onData(chunk: Buffer): void {
      this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
      const res = parseResponse(this.buf);
      if (!res || !this.pending) return;
      const p = this.pending;
      this.pending = null;
      this.buf = this.buf.length > res.length ? this.buf.subarray(res.length) : null;
      clearTimeout(p.timer);
      if (res.close) this.retire();
      p.resolve({ status: res.status, body: res.body, ms: performance.now() - p.started });
      if (!this.dead) release(this);
    }

    private fail(err: Error): void {
      const p = this.pending;
      this.pending = null;
      this.retire();
      if (p) {
        clearTimeout(p.timer);
        p.reject(err);
      }
    }

    retire(): void {
      if (this.dead) return;
      this.dead = true;
      all.delete(this);
      const i = idle.indexOf(this);
      if (i >= 0) idle.splice(i, 1);
      this.socket.destroy();
      // A user waiting for a socket gets a new one in place of this.
      const next = waiting.shift();
      if (next) next(new Connection());
    }
  }

  function release(c: Connection): void {
    const next = waiting.shift();
    if (next) next(c);
    else idle.push(c);
  }

  function acquire(): Promise<Connection> {
    const c = idle.pop();
    if (c) return Promise.resolve(c);
    if (all.size < connections) return Promise.resolve(new Connection());
    return new Promise((resolve) => waiting.push(resolve));
  }

  return {
    async send(method, path, body, headers = {}) {
      const payload = body === undefined ? '' : JSON.stringify(body);
      let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
      if (body !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`;
      const c = await acquire();
      return c.request(`${head}\r\n${payload}`);
    },
    close() {
      for (const c of [...all]) c.retire();
    },
  };
}
