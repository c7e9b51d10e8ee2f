import { request, type IncomingHttpHeaders } from 'node:http';

/** How one request ended. */
export type Outcome = { kind: 'ok'; status: number; body: unknown; headers: IncomingHttpHeaders } | { kind: 'status'; status: number; body: unknown; headers: IncomingHttpHeaders } | { kind: 'refused' } | { kind: 'reset'; code: string };

/** One JSON request on a fresh connection (no keep-alive reuse, so a closing server can only refuse or answer). */
export function call(url: string, method: 'GET' | 'POST', body?: unknown, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, agent: false, headers: { ...(payload ? { 'content-type': 'application/json' } : {}), connection: 'close', ...headers }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'reset', code: err.code ?? err.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        const status = res.statusCode ?? 0;
        resolve({ kind: status >= 200 && status < 300 ? 'ok' : 'status', status, body: parsed, headers: res.headers } as Outcome);
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'reset', code: err.code ?? err.message }));
    req.end(payload);
  });
}
