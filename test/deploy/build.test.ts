import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../scripts/build-console.mjs';
import { buildWidget } from '../../scripts/build-widget.mjs';
import { startServer, type ServerProcess } from '../ops/server-process.js';
import { RUNTIME_PATHS } from './runtime-paths.js';

// One file, so the two builds into dist/ never run at the same time.
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
    // The analytics page is part of the build: its HTML, CSS and the chart.js bundle, not the browser script as a module.
    expect(readdirSync(join('dist', 'analytics', 'page')).sort()).toEqual(['app.bundle.js', 'app.css', 'index.html']);
    expect(readFileSync(join('dist', 'analytics', 'page', 'app.bundle.js'), 'utf8')).toMatch(/Chart/);

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


/** Copies a tree as hard links (cheap: the scratch folder is on the same file system). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const a = join(from, e.name);
    const b = join(to, e.name);
    if (e.isDirectory()) linkTree(a, b);
    else if (e.isSymbolicLink()) cpSync(a, b, { verbatimSymlinks: true });
    else {
      try {
        linkSync(a, b);
      } catch {
        copyFileSync(a, b); // another file system
      }
    }
  }
}

describe('the compiled server on production dependencies only (what `npm ci --omit=dev` installs)', () => {
  // Outside the repository: module resolution walks up the folders, and must not reach the repository's node_modules.
  const root = mkdtempSync(join(tmpdir(), 'wsa-runtime-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('starts from dist/ without tsx, esbuild or any other development package, answers a conversation and serves every page', async () => {
    await run('npm', ['run', 'build', '--silent'], { timeout: 120_000 });
    await buildWidget({ quiet: true });
    await buildConsole({ quiet: true });
    const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { maxBuffer: 16 << 20 });
    // Top-level package folders of the production closure (nested node_modules come with their parent).
    const top = new Set(
      stdout.split('\n').map((p) => relative(process.cwd(), p)).filter((p) => p.startsWith('node_modules/')).map((p) => {
        const parts = p.split('/');
        return parts.slice(0, parts[1]!.startsWith('@') ? 3 : 2).join('/');
      }),
    );
    expect(top.has('node_modules/tsx')).toBe(false);
    for (let d = dirname(root); d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    for (const p of top) if (existsSync(p) && statSync(p).isDirectory()) linkTree(p, join(root, p));
    // Exactly what the image's runtime stage copies (compose.test.ts checks the Dockerfile against the same list).
    for (const d of RUNTIME_PATHS) {
      expect(existsSync(d), d).toBe(true);
      if (statSync(d).isDirectory()) linkTree(d, join(root, d));
      else {
        mkdirSync(dirname(join(root, d)), { recursive: true });
        copyFileSync(d, join(root, d));
      }
    }
    cpSync('package.json', join(root, 'package.json'));
    for (const dev of ['tsx', 'esbuild', 'vitest', 'typescript', 'chart.js']) expect(existsSync(join(root, 'node_modules', dev)), dev).toBe(false);

    const env = { DATA_DIR: join(root, 'data'), HANDOFF_DATA_DIR: join(root, 'data') };
    const add = execFile(process.execPath, ['dist/cli.js', 'agent', 'add', 'ana.lyst', '--name', '分析员'], { cwd: root, env: { ...process.env, ...env, REDIS_URL: '' } });
    add.stdin!.end('analyst-password-1\n');
    expect(await new Promise((resolve) => add.on('close', resolve))).toBe(0);
    // NLU_WORKERS as in production (the tests' own default is 0): the compiled worker file must be found and used.
    server = await startServer({ ...env, KNOWLEDGE_WATCH: 'true', METRICS_PORT: '0', NLU_WORKERS: '1' }, ['dist/main.js'], 60_000, root);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const created = await fetch(`${server.url}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { conversationId, token } = (await created.json()) as { conversationId: string; token: string };
    const sent = await fetch(`${server.url}/api/v1/conversations/${conversationId}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ text: '水费怎么交' }) });
    expect(sent.status).toBe(200);
    expect(((await sent.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text).join('')).toContain('水费');
    // The message was understood on the worker thread once it was up (the first may have come before it was).
    const served = async () => Number(/wsa_nlu_worker_messages\{outcome="served"\} (\d+)/.exec(await (await fetch(`${server!.metricsUrl}/metrics`)).text())?.[1] ?? -1);
    for (let i = 0; i < 50 && (await served()) < 1; i++) {
      await fetch(`${server.url}/api/v1/conversations/${conversationId}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ text: `停水了怎么办 ${i}` }) });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await served()).toBeGreaterThanOrEqual(1);

    // The demo page, the widget and the agent console.
    for (const path of ['/', '/widget.js', '/demo.css', '/agent', '/agent/console.js', '/agent/console.css']) expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    // The analytics page and its chart bundle, for an agent logged into the console (no esbuild here to bundle it).
    const csrf = await fetch(`${server.url}/api/v1/agent/csrf`);
    const login = await fetch(`${server.url}/api/v1/agent/login`, { method: 'POST', headers: { cookie: csrf.headers.getSetCookie()[0]!.split(';')[0]!, 'x-csrf-token': ((await csrf.json()) as { csrfToken: string }).csrfToken, 'content-type': 'application/json' }, body: JSON.stringify({ login: 'ana.lyst', password: 'analyst-password-1' }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    for (const path of ['/agent/analytics', '/agent/analytics/app.css', '/agent/analytics/app.js']) {
      const res = await fetch(`${server.url}${path}`, { headers: { cookie } });
      expect(res.status, path).toBe(200);
      if (path.endsWith('.js')) expect(await res.text()).toMatch(/Chart/);
    }
  }, 240_000);
});
