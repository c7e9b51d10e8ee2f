import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildConsole } from '../../scripts/build-console.mjs';
import { createDispatcher, outboxAdminRoutes } from '../../src/backoffice/index.js';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger, type Application } from '../../src/core/index.js';
import type { HandoffArea } from '../../src/handoff/index.js';
import { loadKnowledge } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';
import { FakeBackoffice } from '../backoffice/fake-backoffice.js';
import { consoleWith } from '../helpers/console.js';
import { chromiumSuite, launchChromium } from './chromium.js';
import { eventually } from './harness.js';

const suite = chromiumSuite('dead letters in the agent console');
const SECRET = 'backoffice-shared-secret-0123456789';
const REF = 'WS20260930-0042';
const MOBILE = '15071234567';
const CALLBACK_ID = 'callback:CB20260930-0007';
const logger = createLogger('silent');

/** A stored application whose raw numbers the back office would get, but the console must never show. */
function application(): Application {
  return {
    ref: REF, flowId: 'demolition', title: '拆迁销户', conversationId: 'web:dl-test', answers: { mobile: MOBILE }, fields: [{ label: '手机', value: '150****4567' }],
    items: [], checklist: [], mobile: MOBILE, status: 'submitted', submittedAt: '2026-09-30T02:00:00.000Z', dueDate: null, timeLimit: { value: 5, unit: '工作日' }, nextSteps: [],
  };
}

/** One row of the panel as the admin sees it. */
const rows = (p: Page) =>
  p.locator('#dead-letters tr.dead-letter').evaluateAll((trs) => trs.map((tr) => ({ id: (tr as HTMLElement).dataset.id, cells: Array.from(tr.querySelectorAll('td'), (td) => td.textContent) })));

suite('dead letters in the agent console (Chromium)', () => {
  let stores: Stores;
  let handoff: HandoffArea;
  let app: FastifyInstance;
  let office: FakeBackoffice;
  let browser: Browser;
  let url = '';
  const pageErrors: string[] = [];

  async function loggedIn(login: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN' })).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${url}/agent`);
    await page.fill('#login', login);
    await page.fill('#password', `password-${login}`);
    await page.click('#login-submit');
    await page.waitForSelector('#agent-name');
    return page;
  }

  beforeAll(async () => {
    await buildConsole({ quiet: true });
    const kb = loadKnowledge('knowledge', 'flows');
    const classifier = createClassifier(kb);
    stores = createMemoryStores();
    const desk = await consoleWith({ kb, classifier, stores, routes: [outboxAdminRoutes({ stores })] });
    handoff = desk.handoff;
    await desk.addAgent('dl.agent');
    await desk.addAgent('dl.admin', 'admin');
    const service = createConversationService({ kb, classifier, stores, logger });
    app = await buildServer({ service, stores, logger, plugins: [desk.plugin] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    // Two entries die against a back office that always answers 503; the dispatcher stops before the replay.
    office = await new FakeBackoffice(SECRET).listen();
    office.status = 503;
    await stores.applications.save(application());
    await stores.outbox.add([
      { id: `application:${REF}`, kind: 'application', payload: { ref: REF, flowId: 'demolition' }, createdAt: '2026-09-30T02:00:00.000Z' },
      { id: CALLBACK_ID, kind: 'callback', payload: { ticket: 'CB20260930-0007' }, createdAt: '2026-09-30T02:01:00.000Z' },
    ]);
    const d = createDispatcher({ outbox: stores.outbox, applications: stores.applications, logger, url: office.url, secret: SECRET, maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 });
    for (let i = 0; i < 50 && (await stores.outbox.counts()).dead < 2; i++) {
      await d.runOnce();
      await new Promise((r) => setTimeout(r, 15));
    }
    await d.stop();
    expect(await stores.outbox.counts()).toEqual({ pending: 0, dead: 2 });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await handoff?.close();
    await office?.close();
    await stores?.close();
  });

  it('shows an admin the dead letters, replays one (the store has it pending again), and shows the API error for one gone', async () => {
    const page = await loggedIn('dl.admin');
    await page.click('[data-tab=deadLetters]');
    await page.waitForSelector('#dead-letters tr.dead-letter');
    expect(await page.textContent('#dead-letters h2')).toBe('投递失败');
    expect(await page.textContent('#dl-counts')).toBe('投递失败 2 条，待投递 0 条');
    const shown = await rows(page);
    expect(shown.map((r) => r.id).sort()).toEqual([CALLBACK_ID, `application:${REF}`].sort());
    const byId = Object.fromEntries(shown.map((r) => [r.id, r.cells]));
    expect(byId[`application:${REF}`]!.slice(0, 4)).toEqual(['办件申请', REF, '2', 'HTTP 503']);
    expect(byId[CALLBACK_ID]!.slice(0, 4)).toEqual(['回电工单', CALLBACK_ID, '2', 'HTTP 503']);
    // When it died, in the browser's locale.
    expect(byId[CALLBACK_ID]![4]).toMatch(/^\d{4}\/\d{1,2}\/\d{1,2} \d{1,2}:\d{2}:\d{2}$/);
    // The outbox holds the reference only: the applicant's mobile is nowhere on the page.
    expect(await page.textContent('body')).not.toContain(MOBILE);

    await page.locator(`tr[data-id="application:${REF}"] [data-action=replay]`).click();
    await eventually(() => page.locator(`tr[data-id="application:${REF}"]`).count()).toBe(0);
    await eventually(() => page.textContent('#dl-counts')).toBe('投递失败 1 条，待投递 1 条');
    expect(await page.textContent('#dl-notice')).toBe(`${REF} 已重新排队`);
    expect(await stores.outbox.get(`application:${REF}`)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await stores.outbox.counts()).toEqual({ pending: 1, dead: 1 });

    // Replayed elsewhere meanwhile: the click gets the API's 404, shown in the panel; the row and the page stay.
    expect(await stores.outbox.replay(CALLBACK_ID)).toBe(true);
    await page.locator(`tr[data-id="${CALLBACK_ID}"] [data-action=replay]`).click();
    await eventually(() => page.textContent('#dl-notice')).toBe('未找到该死信条目');
    expect(await page.getAttribute('#dl-notice', 'class')).toBe('error');
    expect(await page.locator(`tr[data-id="${CALLBACK_ID}"]`).count()).toBe(1);

    await page.click('#dl-refresh');
    await page.waitForSelector('#dl-empty');
    expect(await page.textContent('#dl-empty')).toBe('没有投递失败的记录');
    expect(await page.textContent('#dl-counts')).toBe('投递失败 0 条，待投递 2 条');
    expect(await page.locator('#dead-letters tr.dead-letter').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows a plain agent no dead-letter control, and the API still refuses the agent', async () => {
    const page = await loggedIn('dl.agent');
    await page.waitForSelector('[data-tab=dashboard]');
    expect(await page.locator('[data-tab=deadLetters], #dead-letters').count()).toBe(0);
    expect(await page.textContent('header.top')).not.toContain('投递失败');
    const refused = await page.evaluate(async () => {
      const res = await fetch('/api/v1/backoffice/outbox', { credentials: 'same-origin' });
      return { status: res.status, code: (await res.json()).error.code };
    });
    expect(refused).toEqual({ status: 403, code: 'ADMIN_REQUIRED' });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
