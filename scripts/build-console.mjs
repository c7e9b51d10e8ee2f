// Builds agent-console/dist/console.js with esbuild when it is missing or older than any file under agent-console/src.
// Run by `npm run build:console` and by `prestart`; `--force` rebuilds regardless of mtimes. Same bundler settings as the widget.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildWidget } from './build-widget.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundles the agent console unless the bundle is newer than every source. */
export function buildConsole({ force = false, quiet = false } = {}) {
  return buildWidget({ force, quiet, srcDir: join(root, 'agent-console', 'src'), outFile: join(root, 'agent-console', 'dist', 'console.js') });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildConsole({ force: process.argv.includes('--force') }).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
