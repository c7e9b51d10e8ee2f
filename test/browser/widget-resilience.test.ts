import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketRoute } from 'playwright-core';
import axe from 'axe-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Message } from '../../src/core/index.js';
import { chromiumSuite } from './chromium.js';
import { ask, botCount, conversationOf, eventually, shown, WidgetHarness } from './harness.js';

const suite = chromiumSuite('widget resilience in Chromium');

// Each test opens its own page (own localStorage) on one server.
suite('the web widget in Chromium: languages, fallbacks, failures, embedding, CSP and audits', () => {
  let h: WidgetHarness;

  beforeAll(async () => {
    h = await WidgetHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('switches to English, which also sets the reply language of the conversation', async () => {
    const p = await h.newPage();
    const starts: unknown[] = [];
    p.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/conversations')) starts.push(r.postDataJSON());
    });
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await p.locator('.tool.lang').click();
    await eventually(() => p.locator('.composer .send').innerText()).toBe('Send');
    await eventually(() => p.locator('.composer .handoff').innerText()).toBe('Agent');
    await eventually(() => p.locator('.root').getAttribute('lang')).toBe('en');
    await eventually(() => starts).toEqual([{ lang: 'zh' }, { lang: 'en' }]);
    await eventually(() => botCount(p)).toBe(1);
  }, 60_000);

  it('falls back to long polling when WebSockets are blocked', async () => {
    const p = await h.newPage();
    await p.routeWebSocket(/\/socket/, (ws) => ws.close());
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await eventually(() => p.locator('.root').getAttribute('data-transport'), { timeout: 15_000 }).toBe('poll');
    const answer = await ask(p, '水表过户');
    expect(answer.length).toBeGreaterThan(0);
    const id = await conversationOf(p);
    await h.service.post(id, [{ from: 'system', text: '系统通知：今晚 22:00 起计划停水检修。' }]);
    await eventually(async () => (await shown(p)).filter((m) => m.from === 'system').length, { timeout: 15_000 }).toBe(1);
    const seqs = (await shown(p)).map((m) => m.seq);
    expect(seqs).toEqual((await h.service.history(id, 0, 500)).map((m: Message) => m.seq));
  }, 60_000);

  it('starts a new conversation when the kept one has expired or its token is wrong', async () => {
    const p = await h.newPage();
    await p.goto(h.base());
    await p.evaluate((api) => {
      localStorage.setItem(`water-assistant:v1:${api}`, JSON.stringify({ conversationId: 'gone-0000', token: 'nope', messages: [{ seq: 1, from: 'bot', at: '2026-01-01T00:00:00.000Z', text: '旧的对话' }], large: false, open: true }));
    }, h.base());
    await p.reload();
    await eventually(async () => (await p.locator('.notice').allInnerTexts()).join(' '), { timeout: 15_000 }).toContain('已过期');
    await eventually(() => botCount(p)).toBe(1);
    expect((await shown(p))[0]!.text).toContain(h.kb.utility.hotline);
    expect(await conversationOf(p)).not.toBe('gone-0000');
    await ask(p, '水表过户');
  }, 60_000);

  it('needs no inline script or style: it works under a strict Content-Security-Policy', async () => {
    const p = await h.newPage();
    const violations: string[] = [];
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await p.route(`${h.base()}/`, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:" } });
    });
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await ask(p, '水表过户');
    // The shadow root's styles applied: the bubble is the widget's blue, the panel fixed in the corner.
    expect(await p.locator('.panel').evaluate((e) => getComputedStyle(e).position)).toBe('fixed');
    expect(violations).toEqual([]);
    // The policy is in force: an inline script is refused.
    const ran = await p.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.head.append(s);
      return (window as unknown as { inlineRan?: boolean }).inlineRan ?? false;
    });
    expect(ran).toBe(false);
  }, 60_000);

  it('says so when the assistant cannot be reached, and the retry button starts the conversation', async () => {
    const p = await h.newPage();
    let refuse = true;
    await p.route(`${h.base()}/api/v1/conversations`, (route) =>
      refuse ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'STORE_UNAVAILABLE', message: '服务暂时不可用' } }) }) : route.continue(),
    );
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(async () => (await p.locator('.notice').allInnerTexts()).join(' ')).toContain(h.kb.utility.hotline);
    expect(await botCount(p)).toBe(0);
    refuse = false;
    await p.locator('.notice button').click();
    await eventually(() => botCount(p)).toBe(1);
    expect(await p.locator('.notice').count()).toBe(0);
  }, 60_000);

  it('embeds on another site that WIDGET_ALLOWED_ORIGINS names, and is refused on one it does not', async () => {
    let api = '';
    const site: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="zh-CN"><body><h1>街道便民服务</h1><script src="${api}/widget.js" data-api="${api}" defer></script></body></html>`);
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const sitePort = (site.address() as AddressInfo).port;
    const allowed = `http://localhost:${sitePort}`;
    try {
      // A second instance of the assistant, on the same service, that allows that one site.
      api = await h.another([allowed]);
      const p = await h.newPage();
      await p.goto(`${allowed}/`);
      await p.locator('.bubble').click();
      await eventually(() => botCount(p)).toBe(1);
      await ask(p, '水表过户');
      await eventually(() => p.locator('.root').getAttribute('data-status')).toBe('online');
      // The same page from another origin (127.0.0.1 is not localhost): the API refuses it, the widget says so.
      const q = await h.newPage();
      await q.goto(`http://127.0.0.1:${sitePort}/`);
      await q.locator('.bubble').click();
      await eventually(async () => (await q.locator('.notice').allInnerTexts()).join(' ')).toContain('暂时无法连接客服');
      expect(await botCount(q)).toBe(0);
    } finally {
      await new Promise((r) => site.close(r));
    }
  }, 60_000);

  it('passes an axe-core WCAG 2.1 AA audit of the open widget, in normal and large text', async () => {
    const p = await h.newPage();
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await ask(p, '水表过户');
    // The server's helmet CSP (script-src 'self') refuses an injected inline <script>: run axe through the devtools protocol instead.
    await p.evaluate(axe.source);
    const audit = () =>
      p.evaluate(async () => {
        const r = await (window as unknown as { axe: typeof axe }).axe.run({ include: [['[data-water-assistant]']] } as never, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
        return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
    expect(await audit()).toEqual([]);
    await p.locator('.tool.large').click();
    expect(await audit()).toEqual([]);
  }, 60_000);

  it('retries a send whose answer was lost under the same clientMessageId: the turn runs once', async () => {
    const p = await h.newPage();
    await p.routeWebSocket(/\/socket/, (ws) => ws.close());
    const ids: string[] = [];
    let lose = true;
    await p.route(/\/messages$/, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      ids.push((route.request().postDataJSON() as { clientMessageId: string }).clientMessageId);
      if (!lose) return route.continue();
      lose = false;
      // The server runs the turn, then the connection drops before the answer arrives.
      await route.fetch();
      await route.abort('connectionreset');
    });
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await eventually(() => p.locator('.root').getAttribute('data-transport')).toBe('poll');
    await ask(p, '水表过户');
    // The replies may come by the long poll first; the lost POST is retried all the same, under the same id.
    await eventually(() => ids.length).toBe(2);
    expect(ids[1]).toBe(ids[0]);
    await eventually(() => p.locator('.msg.from-user.pending').count()).toBe(0);
    const id = await conversationOf(p);
    const stored = await h.service.history(id, 0, 500);
    expect(stored.filter((m: Message) => m.from === 'user')).toHaveLength(1);
    await eventually(async () => (await shown(p)).map((m) => m.seq)).toEqual(stored.map((m: Message) => m.seq));
  }, 60_000);

  it('shows the typing line while the server says a turn runs, and hides it with the reply', async () => {
    const p = await h.newPage();
    let socket: WebSocketRoute | undefined;
    // Pass the socket through to the server, keeping a handle to speak as the server.
    await p.routeWebSocket(/\/socket/, (ws) => {
      socket = ws;
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => ws.send(m));
    });
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await eventually(() => p.locator('.root').getAttribute('data-status')).toBe('online');
    expect(await p.locator('.typing').isHidden()).toBe(true);
    socket!.send(JSON.stringify({ type: 'typing' }));
    await eventually(() => p.locator('.typing').isVisible()).toBe(true);
    expect(await p.locator('.typing').innerText()).toContain('客服正在输入');
    await ask(p, '水表过户');
    expect(await p.locator('.typing').isHidden()).toBe(true);
  }, 60_000);

  it("is not restyled by the host page's CSS, and its styles do not leak out", async () => {
    const p = await h.newPage();
    await p.goto(h.base());
    await p.addStyleTag({ content: '* { color: red !important; font-family: serif !important; } button { background: red !important; border-radius: 0 !important; } body { font-size: 40px; line-height: 3; }' });
    const bubble = await p.locator('.bubble').evaluate((e) => {
      const s = getComputedStyle(e);
      return { background: s.backgroundColor, color: s.color, radius: s.borderRadius, font: s.fontFamily, size: s.fontSize };
    });
    expect(bubble).toMatchObject({ background: 'rgb(11, 92, 173)', color: 'rgb(255, 255, 255)', radius: '28px', size: '15px' });
    expect(bubble.font).not.toMatch(/^serif/);
    // The widget's rules do not reach the page: a page element that shares a class name keeps the page's look.
    const lookalike = await p.evaluate(() => {
      const d = document.createElement('div');
      d.className = 'bubble panel';
      document.body.append(d);
      const s = getComputedStyle(d);
      return { position: s.position, display: s.display };
    });
    expect(lookalike).toEqual({ position: 'static', display: 'block' });
  }, 60_000);

  it('asks a question again in a new conversation when the one it was sent to has expired meanwhile', async () => {
    const p = await h.newPage();
    await p.goto(h.base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await eventually(() => p.locator('.root').getAttribute('data-status')).toBe('online');
    const old = await conversationOf(p);
    // The session expires on the server (TTL) while the page stays open.
    await h.stores.sessions.delete(old);
    await p.locator('textarea').fill('水表过户');
    await p.locator('textarea').press('Enter');
    await eventually(async () => (await p.locator('.notice').allInnerTexts()).join(' ')).toContain('已过期');
    await eventually(async () => (await shown(p)).filter((m) => m.from === 'user' && m.seq > 0).map((m) => m.text)).toEqual(['水表过户']);
    await eventually(() => botCount(p)).toBe(2);
    // Shown once: no copy left behind from the expired conversation.
    expect((await shown(p)).filter((m) => m.from === 'user')).toHaveLength(1);
    const now = await conversationOf(p);
    expect(now).not.toBe(old);
    expect((await h.service.history(now, 0, 500)).filter((m: Message) => m.from === 'user').map((m: Message) => m.text)).toEqual(['水表过户']);
  }, 60_000);

  it('raised no page error and opened no dialog in any of the tests above', () => {
    expect(h.pageErrors).toEqual([]);
    expect(h.dialogs).toEqual([]);
  });
});
