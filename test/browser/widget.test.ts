import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Locator, Page, WebSocketRoute } from 'playwright-core';
import axe from 'axe-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWidget } from '../../scripts/build-widget.mjs';
import { createWebChannel } from '../../src/channels/web/index.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { createMemoryBus } from '../../src/delivery/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';
import { chromiumSuite, launchChromium } from './chromium.js';

const suite = chromiumSuite('widget in Chromium');
const SHOTS = 'docs/screenshots';
const XSS = '<img src=x onerror=alert(1)>';

/** Completes 17 digits with the GB 11643 check character (independent of the code under test). */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}

suite('the web widget in Chromium', () => {
  let kb: KnowledgeBase;
  let stores: Stores;
  let service: ConversationService;
  let bus: ReturnType<typeof createMemoryBus>;
  let app: FastifyInstance | null = null;
  let port = 0;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  /** Builds the server in-process on the shared stores and bus, and listens (on `port` when given, else a random one). */
  async function listen(on = 0): Promise<void> {
    const logger = createLogger('silent');
    app = await buildServer({ service, stores, logger, channels: [createWebChannel({ service, bus, utility: kb.utility })] });
    await app.listen({ port: on, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  }

  const base = () => `http://127.0.0.1:${port}`;

  /** expect.poll with room for a loaded machine: the default second is too short when eight suites share two cores. */
  const eventually = <T>(fn: () => T | Promise<T>, opts: { timeout?: number } = {}) => expect.poll(fn, { timeout: 15_000, interval: 100, ...opts });

  async function newPage(opts: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN', ...opts });
    contexts.push(ctx);
    const p = await ctx.newPage();
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    p.on('pageerror', (e) => pageErrors.push(e.message));
    return p;
  }

  /** Messages on screen, in order: who wrote them, their seq, and their visible text. */
  const shown = (p: Page) =>
    p.locator('.log .msg').evaluateAll((els) =>
      els.map((e) => ({ from: e.className.match(/from-(\w+)/)?.[1] ?? '', seq: Number((e as HTMLElement).dataset.seq ?? 0), text: (e.querySelector('.body') as HTMLElement | null)?.innerText ?? '', who: e.querySelector('.who')?.textContent ?? '' })),
    );

  const botCount = async (p: Page) => (await shown(p)).filter((m) => m.from === 'bot').length;

  /** Waits until more bot messages than `before` are on screen and the typing line is gone. */
  async function replies(p: Page, before: number): Promise<string> {
    await eventually(() => botCount(p), { timeout: 15_000 }).toBeGreaterThan(before);
    await eventually(() => p.locator('.typing').isHidden(), { timeout: 15_000 }).toBe(true);
    const all = await shown(p);
    return all.filter((m) => m.seq > 0).at(-1)!.text;
  }

  async function ask(p: Page, text: string): Promise<string> {
    const before = await botCount(p);
    await p.locator('textarea').fill(text);
    await p.locator('textarea').press('Enter');
    return replies(p, before);
  }

  async function click(p: Page, title: string): Promise<string> {
    const before = await botCount(p);
    await p.locator('.quick button', { hasText: title }).first().click();
    return replies(p, before);
  }

  /** Waits until the locator's first element is visible. */
  const visible = (loc: Locator) => eventually(() => loc.isVisible(), { timeout: 10_000 }).toBe(true);

  /** The conversation the page keeps in localStorage. */
  const conversationOf = (p: Page) =>
    p.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith('water-assistant:'))!;
      return JSON.parse(localStorage.getItem(key)!).conversationId as string;
    });

  /** The focused element, looking into the widget's shadow root. */
  const focused = (p: Page) =>
    p.evaluate(() => {
      let a: Element | null = document.activeElement;
      while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
      const s = a ? getComputedStyle(a) : null;
      return { tag: a?.tagName.toLowerCase() ?? '', cls: (a as HTMLElement | null)?.className ?? '', text: a?.textContent?.trim() ?? '', outline: s ? `${s.outlineStyle} ${s.outlineWidth}` : '' };
    });

  beforeAll(async () => {
    await buildWidget({ quiet: true });
    kb = loadKnowledge('knowledge', 'flows');
    stores = createMemoryStores();
    bus = createMemoryBus();
    service = createConversationService({ kb, classifier: createClassifier(kb), stores, logger: createLogger('silent'), bus });
    await listen();
    browser = await launchChromium();
    page = await newPage();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
  });

  it('1. opens the demo page, greets with suggested questions, answers a guide question and a quick reply', async () => {
    await page.goto(base());
    const header = await page.locator('header.site').innerText();
    expect(header).toContain(kb.utility.name);
    expect(header).toContain(kb.utility.hotline);
    await page.locator('.bubble').click();
    await eventually(() => botCount(page)).toBe(1);
    const greeting = (await shown(page))[0]!;
    expect(greeting.text).toContain(kb.utility.hotline);
    const suggested = await page.locator('.quick button').allInnerTexts();
    expect(suggested).toEqual(kb.utility.welcome.quickReplies.map((q) => q.title));

    const answer = await ask(page, '过户要带什么');
    expect(answer).toContain('材料');
    const buttons = await page.locator('.quick button').allInnerTexts();
    expect(buttons.length).toBeGreaterThan(1);
    const pick = buttons.find((b) => b !== '转人工')!;
    const next = await click(page, pick);
    expect(next.length).toBeGreaterThan(0);
    // The user's bubble shows the button's title, not its postback; one bubble per message.
    const users = (await shown(page)).filter((m) => m.from === 'user').map((m) => m.text);
    expect(users).toEqual(['过户要带什么', pick]);
    // The full guide: a card with its facts.
    await click(page, '我要办理').catch(() => undefined);
  }, 60_000);

  it('2. completes a short flow to its reference number, with checklist, summary and application cards', async () => {
    await ask(page, '取消办理');
    await ask(page, '我买了二手房');
    await ask(page, kb.utility.accountNumber.example);
    await ask(page, '张三');
    await ask(page, idNumber('42010619850312123'));
    await ask(page, '13812345678');
    await click(page, '是');
    await ask(page, '要');
    await click(page, '否');
    const checklist = page.locator('.card-checklist').last();
    await visible(checklist);
    await eventually(() => checklist.locator('.badge-required').first().innerText()).toBe('必备');
    await eventually(() => checklist.locator('.badge-optional').first().innerText()).toBe('可容缺');
    await click(page, '都能提供');
    const summary = page.locator('.card-summary').last();
    await visible(summary);
    expect(await summary.innerText()).toContain('138****5678');
    expect(await summary.innerText()).not.toContain('13812345678');
    await click(page, '确认提交');
    const application = page.locator('.card-application').last();
    await visible(application);
    const ref = await application.locator('.ref').innerText();
    expect(ref).toMatch(/^WS\d{8}-\d{4}$/);
    expect(await application.innerText()).toMatch(/预计办结：\d{4}-\d{2}-\d{2}/);
    const stored = await stores.applications.get(ref);
    expect(stored?.flowId).toBe('buy-house');
    // Typed personal numbers are shown as the transcript stores them: masked.
    const typed = (await shown(page)).filter((m) => m.from === 'user').map((m) => m.text);
    expect(typed).toContain('138****5678');
    expect(typed).not.toContain('13812345678');
    await application.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/widget-desktop.png` });
  }, 120_000);

  it('3. shows the same history after a reload, each message once, and continues the conversation', async () => {
    const before = await shown(page);
    const id = await conversationOf(page);
    await page.reload();
    await eventually(async () => (await shown(page)).length).toBe(before.length);
    const after = await shown(page);
    if (process.env.DEBUG_WIDGET) console.log(JSON.stringify(before.map((m, i) => [m.from, m.text.slice(0, 30), after[i]?.text.slice(0, 30)])));
    expect(after.map((m) => [m.from, m.text])).toEqual(before.map((m) => [m.from, m.text]));
    const seqs = after.map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual((await service.history(id, 0, 500)).map((m: Message) => m.seq));
    expect(await conversationOf(page)).toBe(id);
    await visible(page.locator('.card-application .ref'));
  }, 60_000);

  it('4. reconnects after a server restart and delivers what was sent meanwhile, once', async () => {
    const id = await conversationOf(page);
    await eventually(() => page.locator('.root').getAttribute('data-status')).toBe('online');
    const samePort = port;
    await app!.close();
    app = null;
    await eventually(() => page.locator('.root').getAttribute('data-status'), { timeout: 10_000 }).not.toBe('online');
    await visible(page.locator('.banner'));
    // While the server is down: an agent writes through the service, and the resident types a question.
    await service.post(id, [{ from: 'agent', author: '王芳', text: '您好，我是人工客服王芳，您的过户申请已收到。' }]);
    await page.locator('textarea').fill('停水了怎么办');
    await page.locator('textarea').press('Enter');
    await page.waitForTimeout(1500);
    await listen(samePort);
    expect(port).toBe(samePort);
    await eventually(async () => (await shown(page)).filter((m) => m.from === 'agent').length, { timeout: 20_000 }).toBe(1);
    const agent = (await shown(page)).find((m) => m.from === 'agent')!;
    expect(agent.who).toBe('人工客服 王芳');
    expect(agent.text).toContain('过户申请已收到');
    // The queued question went out once and got its answer.
    await eventually(async () => (await service.history(id, 0, 500)).filter((m: Message) => m.from === 'user' && m.text === '停水了怎么办').length, { timeout: 20_000 }).toBe(1);
    await eventually(async () => (await shown(page)).at(-1)!.from, { timeout: 15_000 }).toBe('bot');
    await eventually(() => page.locator('.root').getAttribute('data-status')).toBe('online');
    const seqs = (await shown(page)).map((m) => m.seq);
    if (process.env.DEBUG_WIDGET) console.log('DOM', JSON.stringify(await shown(page)), 'STORE', JSON.stringify(await service.history(id, 0, 500)));
    expect(new Set(seqs).size).toBe(seqs.length);
    await eventually(async () => (await shown(page)).map((m) => m.seq)).toEqual((await service.history(id, 0, 500)).map((m: Message) => m.seq));
  }, 60_000);

  it('5. shows markup literally, typed by the user or an agent, and runs none of it', async () => {
    const id = await conversationOf(page);
    await ask(page, XSS);
    await service.post(id, [{ from: 'agent', author: '<b>王芳</b>', text: `${XSS}\n[点我](javascript:alert(2)) **请注意**` }]);
    await eventually(async () => (await shown(page)).filter((m) => m.from === 'agent').length).toBe(2);
    const all = await shown(page);
    expect(all.some((m) => m.from === 'user' && m.text === XSS)).toBe(true);
    const agent = all.filter((m) => m.from === 'agent').at(-1)!;
    expect(agent.text).toContain(XSS);
    expect(agent.text).toContain('[点我](javascript:alert(2))');
    expect(agent.who).toBe('人工客服 <b>王芳</b>');
    const dom = await page.evaluate(() => {
      const root = document.querySelector('[data-water-assistant]')!.shadowRoot!;
      return {
        img: root.querySelectorAll('img').length,
        b: root.querySelectorAll('.log b').length,
        links: Array.from(root.querySelectorAll('a')).map((a) => a.getAttribute('href')),
        bold: Array.from(root.querySelectorAll('.from-agent strong')).map((s) => s.textContent),
        inlineScripts: document.querySelectorAll('script:not([src])').length,
      };
    });
    expect(dom).toEqual({ img: 0, b: 0, links: [`tel:${kb.utility.hotline}`], bold: ['请注意'], inlineScripts: 0 });
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('6. is usable by keyboard alone, with visible focus', async () => {
    const p = await newPage();
    await p.goto(base());
    for (let i = 0; i < 20 && !(await focused(p)).cls.includes('bubble'); i++) await p.keyboard.press('Tab');
    expect((await focused(p)).cls).toContain('bubble');
    await p.keyboard.press('Enter');
    expect((await focused(p)).tag).toBe('textarea');
    await eventually(() => botCount(p)).toBe(1);
    await p.keyboard.type('水表过户');
    await p.keyboard.press('Enter');
    await replies(p, 1);
    // Backwards from the input: the always-visible 转人工, then the newest quick replies.
    await p.keyboard.press('Shift+Tab');
    expect(await focused(p)).toMatchObject({ tag: 'button', text: '转人工' });
    await p.keyboard.press('Shift+Tab');
    const onButton = await focused(p);
    expect(onButton.tag).toBe('button');
    expect(onButton.cls).toBe('qr');
    expect(onButton.outline).toMatch(/^solid [1-9]/);
    const before = await botCount(p);
    await p.keyboard.press('Enter');
    await replies(p, before);
    expect((await shown(p)).filter((m) => m.from === 'user').at(-1)!.text).toBe(onButton.text);
    // The buttons went away with the answer: the focus is back in the input, not lost.
    expect((await focused(p)).tag).toBe('textarea');
    // The header tools: 大字模式 by keyboard.
    for (let i = 0; i < 40 && !(await focused(p)).cls.includes('large'); i++) await p.keyboard.press('Shift+Tab');
    expect((await focused(p)).text).toBe('大字模式');
    const small = await p.locator('.log .body').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    await p.keyboard.press('Space');
    await eventually(() => p.locator('.tool.large').getAttribute('aria-pressed')).toBe('true');
    const large = await p.locator('.log .body').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    expect(large).toBeGreaterThanOrEqual(small * 1.2);
    // Escape closes the panel and gives the focus back to the bubble.
    await p.keyboard.press('Escape');
    await eventually(() => p.locator('.panel').isHidden()).toBe(true);
    expect((await focused(p)).cls).toContain('bubble');
    // Screen readers: the log is a polite live region, the panel a labelled dialog.
    await eventually(() => p.locator('.log').getAttribute('role')).toBe('log');
    await eventually(() => p.locator('.log').getAttribute('aria-live')).toBe('polite');
    await eventually(() => p.locator('.panel').getAttribute('aria-labelledby')).toBe('wa-title');
  }, 60_000);

  it('7. works in a 360 px wide mobile viewport', async () => {
    const p = await newPage({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await p.goto(base());
    await p.locator('.bubble').tap();
    await eventually(() => botCount(p)).toBe(1);
    await ask(p, '水表过户');
    const box = (await p.locator('.panel').boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(360);
    for (const sel of ['textarea', '.composer .send', '.composer .handoff', '.tool.large', '.tool.lang', '.tool.close']) {
      const b = (await p.locator(sel).boundingBox())!;
      expect(b.x, sel).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, sel).toBeLessThanOrEqual(360);
      expect(b.y + b.height, sel).toBeLessThanOrEqual(740);
    }
    const overflow = await p.locator('.log').evaluate((e) => e.scrollWidth - e.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await p.screenshot({ path: `${SHOTS}/widget-mobile.png` });
  }, 60_000);

  it('switches to English, which also sets the reply language of the conversation', async () => {
    const p = await newPage();
    const starts: unknown[] = [];
    p.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/conversations')) starts.push(r.postDataJSON());
    });
    await p.goto(base());
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
    const p = await newPage();
    await p.routeWebSocket(/\/socket/, (ws) => ws.close());
    await p.goto(base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await eventually(() => p.locator('.root').getAttribute('data-transport'), { timeout: 15_000 }).toBe('poll');
    const answer = await ask(p, '水表过户');
    expect(answer.length).toBeGreaterThan(0);
    const id = await conversationOf(p);
    await service.post(id, [{ from: 'system', text: '系统通知：今晚 22:00 起计划停水检修。' }]);
    await eventually(async () => (await shown(p)).filter((m) => m.from === 'system').length, { timeout: 15_000 }).toBe(1);
    const seqs = (await shown(p)).map((m) => m.seq);
    expect(seqs).toEqual((await service.history(id, 0, 500)).map((m: Message) => m.seq));
  }, 60_000);

  it('starts a new conversation when the kept one has expired or its token is wrong', async () => {
    const p = await newPage();
    await p.goto(base());
    await p.evaluate((api) => {
      localStorage.setItem(`water-assistant:v1:${api}`, JSON.stringify({ conversationId: 'gone-0000', token: 'nope', messages: [{ seq: 1, from: 'bot', at: '2026-01-01T00:00:00.000Z', text: '旧的对话' }], large: false, open: true }));
    }, base());
    await p.reload();
    await eventually(async () => (await p.locator('.notice').allInnerTexts()).join(' '), { timeout: 15_000 }).toContain('已过期');
    await eventually(() => botCount(p)).toBe(1);
    expect((await shown(p))[0]!.text).toContain(kb.utility.hotline);
    expect(await conversationOf(p)).not.toBe('gone-0000');
    await ask(p, '水表过户');
  }, 60_000);

  it('needs no inline script or style: it works under a strict Content-Security-Policy', async () => {
    const p = await newPage();
    const violations: string[] = [];
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await p.route(`${base()}/`, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, headers: { ...res.headers(), 'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:" } });
    });
    await p.goto(base());
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
    const p = await newPage();
    let refuse = true;
    await p.route(`${base()}/api/v1/conversations`, (route) =>
      refuse ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'STORE_UNAVAILABLE', message: '服务暂时不可用' } }) }) : route.continue(),
    );
    await p.goto(base());
    await p.locator('.bubble').click();
    await eventually(async () => (await p.locator('.notice').allInnerTexts()).join(' ')).toContain(kb.utility.hotline);
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
    // A second instance of the assistant, on the same service, that allows that one site.
    const other = await buildServer({ service, stores, logger: createLogger('silent'), channels: [createWebChannel({ service, bus, utility: kb.utility, allowedOrigins: [allowed] })] });
    try {
      await other.listen({ port: 0, host: '127.0.0.1' });
      api = `http://127.0.0.1:${(other.server.address() as AddressInfo).port}`;
      const p = await newPage();
      await p.goto(`${allowed}/`);
      await p.locator('.bubble').click();
      await eventually(() => botCount(p)).toBe(1);
      await ask(p, '水表过户');
      await eventually(() => p.locator('.root').getAttribute('data-status')).toBe('online');
      // The same page from another origin (127.0.0.1 is not localhost): the API refuses it, the widget says so.
      const q = await newPage();
      await q.goto(`http://127.0.0.1:${sitePort}/`);
      await q.locator('.bubble').click();
      await eventually(async () => (await q.locator('.notice').allInnerTexts()).join(' ')).toContain('暂时无法连接客服');
      expect(await botCount(q)).toBe(0);
    } finally {
      await other.close();
      await new Promise((r) => site.close(r));
    }
  }, 60_000);

  it('passes an axe-core WCAG 2.1 AA audit of the open widget, in normal and large text', async () => {
    const p = await newPage();
    await p.goto(base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await ask(p, '水表过户');
    await p.addScriptTag({ content: axe.source });
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
    const p = await newPage();
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
    await p.goto(base());
    await p.locator('.bubble').click();
    await eventually(() => botCount(p)).toBe(1);
    await eventually(() => p.locator('.root').getAttribute('data-transport')).toBe('poll');
    await ask(p, '水表过户');
    // The replies may come by the long poll first; the lost POST is retried all the same, under the same id.
    await eventually(() => ids.length).toBe(2);
    expect(ids[1]).toBe(ids[0]);
    await eventually(() => p.locator('.msg.from-user.pending').count()).toBe(0);
    const id = await conversationOf(p);
    const stored = await service.history(id, 0, 500);
    expect(stored.filter((m: Message) => m.from === 'user')).toHaveLength(1);
    await eventually(async () => (await shown(p)).map((m) => m.seq)).toEqual(stored.map((m: Message) => m.seq));
  }, 60_000);

  it('shows the typing line while the server says a turn runs, and hides it with the reply', async () => {
    const p = await newPage();
    let socket: WebSocketRoute | undefined;
    // Pass the socket through to the server, keeping a handle to speak as the server.
    await p.routeWebSocket(/\/socket/, (ws) => {
      socket = ws;
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => ws.send(m));
    });
    await p.goto(base());
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
    const p = await newPage();
    await p.goto(base());
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
});
