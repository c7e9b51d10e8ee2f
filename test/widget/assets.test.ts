import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { widgetAssets } from '../../src/channels/web/assets.js';
import { loadKnowledge, type Utility } from '../../src/knowledge/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'widget-assets-'));
let utility: Utility;
const apps: FastifyInstance[] = [];

async function serve(u: Utility, widgetDir = tmp): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(widgetAssets, { utility: u, widgetDir });
  apps.push(app);
  return app;
}

beforeAll(() => {
  utility = loadKnowledge('knowledge', 'flows').utility;
  mkdirSync(join(tmp, 'dist'));
  mkdirSync(join(tmp, 'demo'));
  writeFileSync(join(tmp, 'dist', 'widget.js'), 'console.log("widget v1");\n');
  writeFileSync(join(tmp, 'demo', 'demo.css'), 'body { color: #123; }\n');
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('GET /: the demo page', () => {
  it("shows another utility's name and hotline from its utility.yaml, escaped, with the widget's one script tag", async () => {
    const other: Utility = { ...utility, name: '某市<自来水>公司 & 供水', shortName: '某市水务', hotline: '12345-6', hotlineHours: '全天' };
    const res = await (await serve(other)).inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('某市&lt;自来水&gt;公司 &amp; 供水');
    expect(res.body).not.toContain('<自来水>');
    expect(res.body).toContain('12345-6');
    expect(res.body).not.toContain(utility.name);
    const scripts = res.body.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toMatch(/src="\/widget\.js"/);
    expect(scripts[0]).toMatch(/data-lang="zh"/);
    // No inline script anywhere: the tag is empty.
    expect(res.body).toMatch(/<script [^>]*><\/script>/);
    for (const h of other.halls) expect(res.body).toContain(h.name);
  });
});

describe('GET /widget.js', () => {
  it('serves the bundle with Cache-Control and a strong ETag, and 304 for a current copy', async () => {
    const app = await serve(utility);
    const res = await app.inject('/widget.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/javascript/);
    expect(res.body).toContain('widget v1');
    expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.inject({ url: '/widget.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves a rebuilt bundle under a new ETag', async () => {
    const app = await serve(utility);
    const before = (await app.inject('/widget.js')).headers.etag;
    writeFileSync(join(tmp, 'dist', 'widget.js'), 'console.log("widget v2 with changes");\n');
    const res = await app.inject({ url: '/widget.js', headers: { 'if-none-match': before as string } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('widget v2');
    expect(res.headers.etag).not.toBe(before);
  });

  it('answers 404 with a coded error when the bundle was never built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'widget-empty-'));
    try {
      const res = await (await serve(utility, empty)).inject('/widget.js');
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
      expect(res.json().error.message).toContain('build:widget');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
