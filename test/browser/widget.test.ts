import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Message } from '../../src/core/index.js';
import { chromiumSuite } from './chromium.js';
import { ask, botCount, click, conversationOf, eventually, focused, replies, shown, visible, WidgetHarness } from './harness.js';

const suite = chromiumSuite('widget in Chromium');
// The README's screenshots are refreshed on request (SCREENSHOTS=docs/screenshots); other runs keep them in a temp folder.
const SHOTS = process.env.SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'wsa-shots-'));
const XSS = '<img src=x onerror=alert(1)>';

// One resident's page goes through tests 1-5 in order (a conversation that continues); 6 and 7 open their own.
suite('the web widget in Chromium', () => {
  let h: WidgetHarness;
  let page: Page;

  beforeAll(async () => {
    h = await WidgetHarness.start();
    page = await h.newPage();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('1. opens the demo page, greets with suggested questions, answers a guide question and a quick reply', async () => {
    await page.goto(h.base());
    const header = await page.locator('header.site').innerText();
    expect(header).toContain(h.kb.utility.name);
    expect(header).toContain(h.kb.utility.hotline);
    await page.locator('.bubble').click();
    await eventually(() => botCount(page)).toBe(1);
    const greeting = (await shown(page))[0]!;
    expect(greeting.text).toContain(h.kb.utility.hotline);
    const suggested = await page.locator('.quick button').allInnerTexts();
    expect(suggested).toEqual(h.kb.utility.welcome.quickReplies.map((q) => q.title));

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
    // 开店 (existing meter, 个体工商户): since issue 7 only the 5 items the source names have 可容缺 materials,
    // and 用水优惠 is one of them, so this flow still shows both badges and the 都能提供 question.
    await ask(page, '我要开店');
    await click(page, '已有水表');
    await ask(page, h.kb.utility.accountNumber.example);
    await click(page, '户名不用变');
    await ask(page, '要');
    await click(page, '个体工商户');
    await ask(page, '张三');
    await ask(page, '91350100M000100Y43');
    await ask(page, '13812345678');
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
    const stored = await h.stores.applications.get(ref);
    expect(stored?.flowId).toBe('open-business');
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
    expect(seqs).toEqual((await h.service.history(id, 0, 500)).map((m: Message) => m.seq));
    expect(await conversationOf(page)).toBe(id);
    await visible(page.locator('.card-application .ref'));
  }, 60_000);

  it('4. reconnects after a server restart and delivers what was sent meanwhile, once', async () => {
    const id = await conversationOf(page);
    await eventually(() => page.locator('.root').getAttribute('data-status')).toBe('online');
    const samePort = h.port;
    await h.stop();
    await eventually(() => page.locator('.root').getAttribute('data-status'), { timeout: 10_000 }).not.toBe('online');
    await visible(page.locator('.banner'));
    // While the server is down: an agent writes through the service, and the resident types a question.
    await h.service.post(id, [{ from: 'agent', author: '王芳', text: '您好，我是人工客服王芳，您的过户申请已收到。' }]);
    await page.locator('textarea').fill('停水了怎么办');
    await page.locator('textarea').press('Enter');
    await page.waitForTimeout(1500);
    await h.listen(samePort);
    expect(h.port).toBe(samePort);
    await eventually(async () => (await shown(page)).filter((m) => m.from === 'agent').length, { timeout: 20_000 }).toBe(1);
    const agent = (await shown(page)).find((m) => m.from === 'agent')!;
    expect(agent.who).toBe('人工客服 王芳');
    expect(agent.text).toContain('过户申请已收到');
    // The queued question went out once and got its answer.
    await eventually(async () => (await h.service.history(id, 0, 500)).filter((m: Message) => m.from === 'user' && m.text === '停水了怎么办').length, { timeout: 20_000 }).toBe(1);
    await eventually(async () => (await shown(page)).at(-1)!.from, { timeout: 15_000 }).toBe('bot');
    await eventually(() => page.locator('.root').getAttribute('data-status')).toBe('online');
    const seqs = (await shown(page)).map((m) => m.seq);
    if (process.env.DEBUG_WIDGET) console.log('DOM', JSON.stringify(await shown(page)), 'STORE', JSON.stringify(await h.service.history(id, 0, 500)));
    expect(new Set(seqs).size).toBe(seqs.length);
    await eventually(async () => (await shown(page)).map((m) => m.seq)).toEqual((await h.service.history(id, 0, 500)).map((m: Message) => m.seq));
  }, 60_000);

  it('5. shows markup literally, typed by the user or an agent, and runs none of it', async () => {
    const id = await conversationOf(page);
    await ask(page, XSS);
    await h.service.post(id, [{ from: 'agent', author: '<b>王芳</b>', text: `${XSS}\n[点我](javascript:alert(2)) **请注意**` }]);
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
    expect(dom).toEqual({ img: 0, b: 0, links: [`tel:${h.kb.utility.hotline}`], bold: ['请注意'], inlineScripts: 0 });
    await page.waitForTimeout(300);
    expect(h.dialogs).toEqual([]);
    expect(h.pageErrors).toEqual([]);
  }, 60_000);

  it('6. is usable by keyboard alone, with visible focus', async () => {
    const p = await h.newPage();
    await p.goto(h.base());
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
    const p = await h.newPage({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await p.goto(h.base());
    await p.locator('.bubble').tap();
    await eventually(() => botCount(p)).toBe(1);
    await ask(p, '水表过户');
    /** Everything a resident needs is inside the 360 × 740 screen, and nothing scrolls sideways. */
    const fits = async (mode: string) => {
      const box = (await p.locator('.panel').boundingBox())!;
      expect(box.x, mode).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, mode).toBeLessThanOrEqual(360);
      // The fixed controls on screen; the quick replies (in the scrolling log) at least within its width.
      for (const sel of ['textarea', '.composer .send', '.composer .handoff', '.tool.large', '.tool.lang', '.tool.close', '.quick button']) {
        for (const b of await Promise.all((await p.locator(sel).all()).map((l) => l.boundingBox()))) {
          expect(b!.x, `${mode} ${sel}`).toBeGreaterThanOrEqual(0);
          expect(b!.x + b!.width, `${mode} ${sel}`).toBeLessThanOrEqual(360);
          if (sel !== '.quick button') expect(b!.y + b!.height, `${mode} ${sel}`).toBeLessThanOrEqual(740);
        }
      }
      expect(await p.locator('.log').evaluate((e) => e.scrollWidth - e.clientWidth), mode).toBeLessThanOrEqual(0);
      expect(await p.evaluate(() => document.documentElement.scrollWidth), mode).toBeLessThanOrEqual(360);
    };
    await fits('normal');
    await p.locator('.tool.large').tap();
    await fits('大字模式');
    await p.locator('.tool.large').tap();
    await p.screenshot({ path: `${SHOTS}/widget-mobile.png` });
  }, 60_000);

  it('raised no page error and opened no dialog in any of the checks above', () => {
    expect(h.pageErrors).toEqual([]);
    expect(h.dialogs).toEqual([]);
  });
});
