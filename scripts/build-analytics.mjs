// Writes the analytics page into dist/analytics/page (index.html, app.css, and app.bundle.js: page/app.ts with chart.js),
// so the compiled server serves it without esbuild or chart.js (development packages, not in the image's node_modules).
// Run by `npm run build` after esbuild compiled src/ (it uses the compiled writeAnalyticsBundle).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'analytics', 'page');

const { writeAnalyticsBundle } = await import(pathToFileURL(join(root, 'dist', 'analytics', 'page-assets.js')).href);
// The dist build compiled the browser script as one more module; the page uses the bundle only.
for (const f of ['app.js', 'app.js.map']) rmSync(join(outDir, f), { force: true });
await writeAnalyticsBundle(outDir);
