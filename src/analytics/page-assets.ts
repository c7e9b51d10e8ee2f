import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

let bundled: Promise<string> | undefined;

/** Bundles page/app.ts with chart.js (esbuild, once per process), or reads a prebuilt page/app.bundle.js (a production image without esbuild: see writeAnalyticsBundle). */
async function script(): Promise<string> {
  bundled ??= (async () => {
    const prebuilt = here('./page/app.bundle.js');
    if (existsSync(prebuilt)) return readFileSync(prebuilt, 'utf8');
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [here('./page/app.ts')], bundle: true, write: false, format: 'iife', minify: true, platform: 'browser', target: 'es2020', legalComments: 'none', logLevel: 'silent' });
    return out.outputFiles[0]!.text;
  })();
  bundled.catch(() => (bundled = undefined));
  return bundled;
}

/** The static analytics page: HTML, CSS and the bundled script. */
export const analyticsPage = {
  get html() {
    return readFileSync(here('./page/index.html'), 'utf8');
  },
  get css() {
    return readFileSync(here('./page/app.css'), 'utf8');
  },
  script,
};

/** Writes the bundled page script next to the page (run at image build time, where esbuild is installed). */
export async function writeAnalyticsBundle(outFile = here('./page/app.bundle.js')): Promise<string> {
  const { writeFileSync } = await import('node:fs');
  bundled = undefined;
  const text = await script();
  writeFileSync(outFile, text);
  return outFile;
}
