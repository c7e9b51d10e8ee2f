/**
 * A small keep-alive JSON client over node:http for bench:load: one connection pool per instance, each request's
 * time in ms, and network errors retried (a message carries its clientMessageId, so a repeat runs nothing twice).
 */
import { Agent, request } from 'node:http';

/** One answered request. */
export interface JsonAnswer {
  status: number;
  body: any;
  /** From writing the request to the end of the response, in ms (of the last try). */
  ms: number;
}

/** Keep-alive JSON calls, pooled per origin. */
export class JsonHttp {
  private readonly agents = new Map<string, Agent>();
  /** Network errors seen (each retried). */
  networkErrors = 0;

  constructor(private readonly maxSockets: number) {}

  /** Sends one request, retrying network errors up to `tries` times; throws after the last. */
  async call(method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}, tries = 3): Promise<JsonAnswer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(method, url, body, headers);
      } catch (err) {
        this.networkErrors++;
        if (attempt >= tries) throw err;
      }
    }
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
  }

  private agentFor(origin: string): Agent {
    let a = this.agents.get(origin);
    if (!a) this.agents.set(origin, (a = new Agent({ keepAlive: true, maxSockets: this.maxSockets })));
    return a;
  }

  private once(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<JsonAnswer> {
    const u = new URL(url);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: this.agentFor(u.origin), headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}), ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - t0 });
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
