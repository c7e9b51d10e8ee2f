import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWidget } from '../../scripts/build-widget.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'widget-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the widget bundle', () => {
  it('is at most 60 KB gzipped', async () => {
    const outFile = join(tmp, 'widget.js');
    const r = await buildWidget({ force: true, quiet: true, outFile });
    expect(r.built).toBe(true);
    const js = readFileSync(outFile);
    const gz = gzipSync(js, { level: 9 }).length;
    console.log(`widget.js: ${(js.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);
    expect(gz).toBeLessThanOrEqual(60 * 1024);
  });

  it('never parses strings as HTML or code, and builds no javascript: links', () => {
    const dir = 'widget/src';
    for (const f of readdirSync(dir)) {
      const src = readFileSync(join(dir, f), 'utf8');
      expect(src, f).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|createContextualFragment/);
      expect(src, f).not.toMatch(/javascript:/i);
    }
  });
});

describe('build-widget (the prestart step)', () => {
  it('builds when the bundle is missing or older than a source, and not otherwise', async () => {
    const srcDir = join(tmp, 'src');
    mkdirSync(srcDir);
    writeFileSync(join(srcDir, 'index.ts'), 'document.title = "one";\n');
    const outFile = join(tmp, 'dist', 'w.js');
    expect((await buildWidget({ quiet: true, srcDir, outFile })).built).toBe(true);
    expect((await buildWidget({ quiet: true, srcDir, outFile })).built).toBe(false);
    // A source edited after the build makes it stale (the bundle is dated back: mtimes have a coarse grain).
    const earlier = new Date(Date.now() - 10_000);
    utimesSync(outFile, earlier, earlier);
    writeFileSync(join(srcDir, 'index.ts'), 'document.title = "two";\n');
    expect((await buildWidget({ quiet: true, srcDir, outFile })).built).toBe(true);
    expect(readFileSync(outFile, 'utf8')).toContain('two');
    expect((await buildWidget({ quiet: true, srcDir, outFile })).built).toBe(false);
    expect((await buildWidget({ quiet: true, srcDir, outFile, force: true })).built).toBe(true);
  });
});
