import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../ops/server-process.js';

const run = promisify(execFile);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

describe('npm run build && node dist/main.js', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsa-build-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('compiles to dist/ and the compiled server answers /healthz, the demo page and the API without tsx', async () => {
    await run('npm', ['run', 'build', '--silent'], { timeout: 240_000 });
    const js = filesUnder('dist').filter((f) => f.endsWith('.js'));
    expect(js).toContain(join('dist', 'main.js'));
    for (const f of js) expect(readFileSync(f, 'utf8'), f).not.toMatch(/from ['"]tsx|require\(['"]tsx/);

    server = await startServer({ DATA_DIR: dataDir, KNOWLEDGE_WATCH: 'false' }, ['dist/main.js']);
    expect(server.proc.spawnargs).not.toContain('tsx');
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    // The demo page and the widget bundle are found from dist/ (paths relative to the module hold).
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const created = await fetch(`${server.url}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(created.status).toBe(201);
    const { messages } = (await created.json()) as { messages: Array<{ text: string }> };
    expect(messages[0]!.text.length).toBeGreaterThan(0);
  }, 300_000);
});
