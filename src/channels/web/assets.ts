import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Utility } from '../../knowledge/index.js';

/** Options of the widget asset plugin. */
export interface WidgetAssetsOptions {
  /** The utility whose name, hotline, channels and halls the demo page shows (knowledge/utility.yaml); a function is asked on every request, so a knowledge reload shows. */
  utility: Utility | (() => Utility);
  /** The widget folder (holds dist/widget.js and demo/demo.css); defaults to the repository's widget/. */
  widgetDir?: string;
}

const DEFAULT_WIDGET_DIR = fileURLToPath(new URL('../../../widget', import.meta.url));

/** A file read once per change of its mtime, with a strong ETag of its bytes. */
interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  etag: string;
}

/** Reads a file, reusing the last read while its mtime and size are unchanged; null when it does not exist. */
function fileCache(path: string): () => Promise<CachedFile | null> {
  let cached: CachedFile | null = null;
  return async () => {
    const s = await stat(path).catch(() => null);
    if (!s) return null;
    if (cached && cached.mtimeMs === s.mtimeMs && cached.size === s.size) return cached;
    const body = await readFile(path);
    cached = { mtimeMs: s.mtimeMs, size: s.size, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    return cached;
  };
}

/** Sends a cached file with Cache-Control and ETag, answering 304 when the client's copy is current. */
function sendCached(req: FastifyRequest, reply: FastifyReply, file: CachedFile, type: string): FastifyReply {
  // The bundle URL is not versioned: a short max-age, then revalidation by ETag.
  reply.header('Cache-Control', 'public, max-age=300, must-revalidate').header('ETag', file.etag);
  // Other sites embed the script: let them load it despite helmet's same-origin default.
  reply.header('Cross-Origin-Resource-Policy', 'cross-origin');
  if (req.headers['if-none-match'] === file.etag) return reply.status(304).send();
  return reply.type(type).send(file.body);
}

/** The utility of a value or getter (the web channel takes either). */
export function utilityOf(u: Utility | (() => Utility)): Utility {
  return typeof u === 'function' ? u() : u;
}

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function channelList(utility: Utility): string {
  return utility.channels
    .map((c) => `<li><h3>${escapeHtml(c.name)}</h3><p class="hours">${escapeHtml(c.hours)}</p><p>${escapeHtml(c.description)}</p></li>`)
    .join('\n');
}

function hallList(utility: Utility): string {
  return utility.halls
    .map((h) => `<tr><td>${escapeHtml(h.name)}</td><td>${escapeHtml(h.district)}</td><td>${escapeHtml(h.address)}</td><td>${escapeHtml(h.hours)}</td></tr>`)
    .join('\n');
}

/** The demo page: a utility service page with the widget's one script tag, and no inline script. */
export function demoPage(utility: Utility): string {
  const name = escapeHtml(utility.name);
  const hotline = escapeHtml(utility.hotline);
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} · 网上营业厅</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/demo.css">
</head>
<body>
<header class="site">
  <div class="brand"><span class="logo" aria-hidden="true">水</span><span>${name}</span></div>
  <div class="hotline">服务热线 <strong>${hotline}</strong> <span>${escapeHtml(utility.hotlineHours)}</span></div>
</header>
<nav class="site-nav" aria-label="主导航"><a href="#channels">办事渠道</a><a href="#halls">营业厅</a><a href="#about">服务承诺</a></nav>
<main>
  <section class="hero">
    <h1>${escapeHtml(utility.shortName)}网上营业厅</h1>
    <p>报装、过户、交费、报修、优惠政策……点击右下角“在线客服”，24 小时智能客服随时为您解答；需要人工时可一键转接 ${hotline} 热线客服。</p>
  </section>
  <section id="channels"><h2>办事渠道</h2><ul class="cards">
${channelList(utility)}
  </ul></section>
  <section id="halls"><h2>实体营业厅</h2><p>${escapeHtml(utility.hallHours)}</p>
  <div class="table-wrap"><table><thead><tr><th>营业厅</th><th>辖区</th><th>地址</th><th>时间</th></tr></thead><tbody>
${hallList(utility)}
  </tbody></table></div></section>
  <section id="about"><h2>服务承诺</h2><ul class="facts">${utility.facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul></section>
</main>
<footer class="site">${name} · 服务热线 ${hotline}（${escapeHtml(utility.hotlineHours)}）· 演示页面</footer>
<script src="/widget.js" data-api="" data-lang="zh" data-title="${escapeHtml(utility.shortName)}在线客服" data-hotline="${hotline}" defer></script>
</body>
</html>
`;
}

/** Serves the demo page at `/`, its stylesheet at `/demo.css`, and the widget bundle at `/widget.js` (built by scripts/build-widget.mjs). */
export const widgetAssets: FastifyPluginAsync<WidgetAssetsOptions> = async (app, opts) => {
  const dir = opts.widgetDir ?? DEFAULT_WIDGET_DIR;
  const bundle = fileCache(join(dir, 'dist', 'widget.js'));
  const css = fileCache(join(dir, 'demo', 'demo.css'));
  // Rendered again only when the utility in use changes (a knowledge reload).
  let page: { utility: Utility; html: string } | undefined;
  const current = () => {
    const utility = utilityOf(opts.utility);
    if (page?.utility !== utility) page = { utility, html: demoPage(utility) };
    return page.html;
  };

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(current()));

  app.get('/widget.js', async (req, reply) => {
    const file = await bundle();
    if (!file) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'widget.js 尚未构建：请运行 npm run build:widget' } });
    return sendCached(req, reply, file, 'application/javascript; charset=utf-8');
  });

  app.get('/demo.css', async (req, reply) => {
    const file = await css();
    if (!file) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'demo.css 不存在' } });
    return sendCached(req, reply, file, 'text/css; charset=utf-8');
  });
};
