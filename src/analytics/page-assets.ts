import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The page's folder: next to this module (src/analytics/page, or dist/analytics/page when the image copies it there),
 * else the source tree's (a dist/ build run from the repository).
 */
function pageDir(): string {
  const candidates = [fileURLToPath(new URL('./page', import.meta.url)), fileURLToPath(new URL('../../src/analytics/page', import.meta.url))];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

let bundled: Promise<string> | undefined;

/** page/app.ts and chart.js as one minified browser script. */
async function bundle(dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, write: false, format: 'iife', minify: true, platform: 'browser', target: 'es2020', legalComments: 'none', logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}

/** Bundles page/app.ts with chart.js (esbuild, once per process), or reads a prebuilt page/app.bundle.js (an image without esbuild). */
async function script(): Promise<string> {
  bundled ??= (async () => {
    const dir = pageDir();
    const prebuilt = join(dir, 'app.bundle.js');
    return existsSync(prebuilt) ? readFileSync(prebuilt, 'utf8') : bundle(dir);
  })();
  bundled.catch(() => (bundled = undefined));
  return bundled;
}

/** The static analytics page: HTML, CSS and the bundled script. */
export const analyticsPage = {
  get html() {
    return readFileSync(join(pageDir(), 'index.html'), 'utf8');
  },
  get css() {
    return readFileSync(join(pageDir(), 'app.css'), 'utf8');
  },
  script,
};

/** Writes the bundled page script into the page folder, for images built without esbuild at run time. */
export async function writeAnalyticsBundle(outFile = join(pageDir(), 'app.bundle.js')): Promise<string> {
  writeFileSync(outFile, await bundle(pageDir()));
  bundled = undefined;
  return outFile;
}
