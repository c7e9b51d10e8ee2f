// Builds widget/dist/widget.js with esbuild when it is missing or older than any file under widget/src.
// Run by `npm run build:widget` and by `prestart`; `--force` rebuilds regardless of mtimes.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const defaultSrc = join(root, 'widget', 'src');
const defaultOut = join(root, 'widget', 'dist', 'widget.js');

/** Newest mtime of every file and folder below `dir`. */
function newest(dir) {
  // The folder's own mtime changes when a file is deleted or renamed.
  let max = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** mtime of the bundle, 0 when missing. */
function builtAt(outFile) {
  try {
    return statSync(outFile).mtimeMs;
  } catch {
    return 0;
  }
}

/** Bundles the widget (minified IIFE, no source map in the served file) unless the bundle is newer than every source. */
export async function buildWidget({ force = false, quiet = false, srcDir = defaultSrc, outFile = defaultOut } = {}) {
  const built = builtAt(outFile);
  if (!force && built > 0 && built >= newest(srcDir)) {
    if (!quiet) console.log('widget: up to date');
    return { built: false, outFile };
  }
  await build({
    entryPoints: [join(srcDir, 'index.ts')],
    outfile: outFile,
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020', 'chrome90', 'safari15', 'firefox90'],
    legalComments: 'none',
    logLevel: quiet ? 'silent' : 'warning',
  });
  if (!quiet) console.log(`widget: built ${outFile}`);
  return { built: true, outFile };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildWidget({ force: process.argv.includes('--force') }).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
