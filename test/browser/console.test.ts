import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildConsole } from '../../scripts/build-console.mjs';
import { CONSOLE_CSP } from '../../src/agent/index.js';
import { startInstance, WidgetUser, type Instance } from '../agent/harness.js';
import { chromiumSuite, launchChromium } from './chromium.js';

const suite = chromiumSuite('agent console in Chromium');
// The README's screenshots are refreshed on request (SCREENSHOTS=docs/screenshots); other runs keep them in a temp folder.
const SHOTS = process.env.SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'wsa-shots-'));
const XSS = '<img src=x onerror=alert(1)>';
const JS_LINK = 'javascript:alert(2)';

suite('the agent console in Chromium', () => {
  let a: Instance;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await buildConsole({ quiet: true });
    a = await startInstance({});
    await a.handoff.service.agents.add('chen.jing', '陈静', 'console-pass-1');
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
    page = await ctx.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await a?.close();
  });

  it('serves /agent with a strict CSP', async () => {
    const res = await fetch(`${a.url}/agent`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
  });

  it('logs in, sees an urgent handoff arrive, claims it, replies, inserts a guide through assist, closes; user text stays inert', async () => {
    await page.goto(`${a.url}/agent`);
    await page.fill('#login', 'chen.jing');
    await page.fill('#password', 'wrong-password');
    await page.click('#login-submit');
    await expect.poll(() => page.textContent('#login-error')).toContain('账号或密码错误');
    await page.fill('#password', 'console-pass-1');
    await page.click('#login-submit');
    await page.waitForSelector('#agent-name');
    expect(await page.textContent('#agent-name')).toBe('陈静');
    await page.waitForFunction(() => document.querySelector('#socket-status')?.textContent === '已连接');

    // A resident types markup and a javascript: link, then reports a burst main: queued as urgent.
    const user = new WidgetUser(a.url);
    await user.start();
    await user.say(XSS);
    await user.say(JS_LINK);
    const turn = { conversationId: user.id, channel: 'web', input: { text: '楼下水管爆了，水漫到马路上' }, now: new Date(), log: { info() {}, warn() {} }, session: undefined, applications: [], outgoing: [] } as never;
    await a.handoff.effects[0]!.run({ type: 'handoff', reason: 'urgent', summary: '' } as never, turn);

    const urgent = page.locator('.queue-item.urgent');
    await urgent.waitFor();
    await expect.poll(() => page.evaluate(() => document.body.dataset.alerts)).toBe('1');
    expect(await urgent.locator('.badge').first().textContent()).toBe('紧急');

    await urgent.locator('[data-action=claim]').click();
    await page.waitForSelector('#summary');
    const transcript = page.locator('#transcript');
    await expect.poll(() => transcript.textContent()).toContain(XSS);
    expect(await transcript.textContent()).toContain(JS_LINK);
    expect(await page.locator('#transcript img, #transcript a, #summary img').count()).toBe(0);
    expect(await page.textContent('#summary')).toContain('紧急情况');
    await expect.poll(async () => (await a.service.history(user.id)).some((m) => m.from === 'system' && m.text.includes('陈静'))).toBe(true);

    // Real time both ways.
    await user.say('地址是江岸区解放大道 100 号');
    await expect.poll(() => transcript.textContent()).toContain('解放大道 100 号');
    await page.fill('#reply', '已为您派单抢修，请远离积水区域。');
    await page.click('#send');
    await expect.poll(async () => (await a.service.history(user.id)).at(-1)).toMatchObject({ from: 'agent', text: '已为您派单抢修，请远离积水区域。', author: '人工客服 陈静' });

    // Agent assist: a guide answer goes into the reply box for editing, then out.
    await page.fill('#kb-q', '过户要带什么材料');
    await page.click('#kb-search');
    await page.locator('[data-action=insert]').first().click();
    const inserted = await page.inputValue('#reply');
    expect(inserted.length).toBeGreaterThan(20);
    expect(inserted).toMatch(/过户/);
    await page.click('#send');
    await expect.poll(async () => (await a.service.history(user.id)).at(-1)?.text).toBe(inserted.trim());

    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/agent-console.png` });

    await page.selectOption('#resolution', 'repair-dispatched');
    await page.click('#close');
    await page.waitForSelector('#conv-done');
    expect((await a.handoff.service.queue()).filter((q) => q.conversationId === user.id)).toEqual([]);
    await expect.poll(async () => (await a.service.history(user.id)).at(-1)?.text).toContain('打分');
    expect(dialogs, 'no script from the transcript ran').toEqual([]);
    expect(pageErrors).toEqual([]);
    user.close();
  }, 60_000);
});
