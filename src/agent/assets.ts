import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const DEFAULT_DIR = fileURLToPath(new URL('../../agent-console', import.meta.url));

/** The console's Content-Security-Policy: only its own script, style and socket; nothing inline, no frames. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: Record<string, { path: string; type: string }> = {
  '/agent': { path: 'index.html', type: 'text/html; charset=utf-8' },
  '/agent/console.js': { path: 'dist/console.js', type: 'text/javascript; charset=utf-8' },
  '/agent/console.css': { path: 'console.css', type: 'text/css; charset=utf-8' },
};

/** Serves the console page, script and style with a strict CSP and ETags. */
export async function consoleAssets(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const dir = opts.dir ?? DEFAULT_DIR;
  const cache = new Map<string, { mtimeMs: number; body: Buffer; etag: string }>();
  const secure = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache');
  for (const [route, file] of Object.entries(FILES)) {
    app.get(route, async (req, reply) => {
      const path = join(dir, file.path);
      const s = await stat(path).catch(() => null);
      if (!s) return secure(reply).status(503).type('text/plain; charset=utf-8').send('坐席控制台尚未构建：请运行 npm run build:console');
      let c = cache.get(path);
      if (!c || c.mtimeMs !== s.mtimeMs) {
        const body = await readFile(path);
        c = { mtimeMs: s.mtimeMs, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
        cache.set(path, c);
      }
      secure(reply).header('etag', c.etag).type(file.type);
      if (req.headers['if-none-match'] === c.etag) return reply.status(304).send();
      return reply.send(c.body);
    });
  }
  app.get('/agent/', async (_req, reply) => reply.redirect('/agent'));
}
