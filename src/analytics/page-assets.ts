import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page folder next to this module: src/analytics/page, or dist/analytics/page as `npm run build` writes it. */
const HERE = fileURLToPath(new URL('./page', import.meta.url));
/** The source tree's page folder, seen from dist/ (a build run from the repository). */
const SOURCE = fileURLToPath(new URL('../../src/analytics/page', import.meta.url));

/** The folder the page is served from: the one next to this module when it holds the page, else the source tree's. */
function pageDir(): string {
  return [HERE, SOURCE].find((d) => existsSync(join(d, 'index.html'))) ?? HERE;
}

/** The folder holding page/app.ts (the source tree's; dist/ has no TypeScript). */
function sourceDir(): string {
  return [HERE, SOURCE].find((d) => existsSync(join(d, 'app.ts'))) ?? SOURCE;
}

let bundled: Promise<string> | undefined;

/** page/app.ts and chart.js as one minified browser script. */
async function bundle(): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({ entryPoints: [join(sourceDir(), 'app.ts')], bundle: true, write: false, format: 'iife', minify: true, platform: 'browser', target: 'es2020', legalComments: 'none', logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}

/** Reads the prebuilt page/app.bundle.js (dist/, the image: no esbuild there), or bundles page/app.ts with chart.js once per process. */
async function script(): Promise<string> {
  bundled ??= (async () => {
    const prebuilt = join(pageDir(), 'app.bundle.js');
    return existsSync(prebuilt) ? readFileSync(prebuilt, 'utf8') : bundle();
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

/**
 * Writes the whole page into `outDir` (index.html, app.css and app.bundle.js), so it is served without esbuild or
 * chart.js: `npm run build` writes dist/analytics/page with it (scripts/build-analytics.mjs). Returns the folder.
 */
export async function writeAnalyticsBundle(outDir = pageDir()): Promise<string> {
  const src = sourceDir();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'app.bundle.js'), await bundle());
  if (outDir !== src) for (const f of ['index.html', 'app.css']) copyFileSync(join(src, f), join(outDir, f));
  bundled = undefined;
  return outDir;
}
