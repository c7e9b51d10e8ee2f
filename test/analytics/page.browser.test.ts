import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildConsole } from '../../scripts/build-console.mjs';
import { analyticsRoutes } from '../../src/analytics/index.js';
import { createLogger } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';
import { chromiumSuite, launchChromium } from '../browser/chromium.js';
import { consoleWith } from '../helpers/console.js';
import { loadScriptedDay, playScriptedDay } from './scripted-day.js';

const suite = chromiumSuite('analytics page in Chromium');
const day = loadScriptedDay();
const e = day.expect;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

suite('the /agent/analytics page in Chromium', () => {
  let kb: KnowledgeBase;
  let stores: Stores;
  let app: FastifyInstance;
  let base = '';
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const rows = (table: string) => page.$$eval(`${table} tbody tr`, (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
  const kpi = (k: string) => page.textContent(`[data-kpi="${k}"]`);

  beforeAll(async () => {
    await buildConsole({ quiet: true });
    kb = loadKnowledge('knowledge', 'flows');
    stores = createMemoryStores();
    const classifier = createClassifier(kb);
    const service = await playScriptedDay(day, { kb, classifier, stores });
    const desk = await consoleWith({ kb, classifier, stores, routes: [analyticsRoutes({ events: stores.events, knowledge: () => kb, now: () => new Date('2026-09-30T12:00:00Z') })] });
    await desk.addAgent('liu.yang');
    app = await buildServer({ service, stores, logger: createLogger('silent'), plugins: [desk.plugin] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await stores?.close();
  });

  it('refuses the page without a console session, and opens it for an agent logged into the console', async () => {
    const denied = await page.goto(`${base}/agent/analytics`);
    expect(denied?.status()).toBe(401);
    await page.click('a[href="/agent"]');
    await page.fill('#login', 'liu.yang');
    await page.fill('#password', 'password-liu.yang');
    await page.click('#login-submit');
    await page.waitForSelector('#agent-name');
    await page.click('#analytics-link');
    await page.waitForURL(`${base}/agent/analytics`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    // The refused first visit logged its 401 (and the console its own traffic); from here on nothing may fail.
    problems.length = 0;
    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
  }, 30_000);

  it('shows the numbers of the scripted day', async () => {
    expect(await kpi('conversations')).toBe(String(e.conversations));
    expect(await kpi('containment')).toBe(pct(e.contained / e.conversations));
    expect(await kpi('clarify')).toBe(pct(e.clarify / e.botTurns));
    expect(await kpi('fallback')).toBe(pct(e.fallback / e.botTurns));
    expect(await kpi('csat')).toBe(e.csat.average!.toFixed(2));
    expect(await kpi('applications')).toBe(String(Object.values(e.applications).reduce((a, b) => a + b, 0)));

    const title = (id: string) => kb.items.get(id)?.title ?? kb.flows.get(id)?.title ?? id;
    expect(await rows('#table-top')).toEqual(Object.entries(e.topItems).map(([id, n]) => [title(id), String(n), pct(e.containmentByItem[id]!)]));
    // Equal counts: ordered by reason id.
    expect(await rows('#table-handoffs')).toEqual([
      ['选项都不是', String(e.handoffReasons['clarify-none'])],
      ['多次未理解', String(e.handoffReasons['repeated-fallback'])],
      ['用户要求', String(e.handoffReasons['user-request'])],
    ]);
    const csat = await rows('#table-csat');
    expect(csat.map((r) => [r[0], r[2]])).toEqual(Object.entries(e.csat).filter(([k]) => k !== 'average').map(([id, v]) => [title(id), v.toFixed(2)]));
    const funnel = await rows('#table-funnel');
    for (const [flowId, f] of Object.entries(e.funnel)) {
      const abandoned = Object.values(f.abandoned).reduce((a, b) => a + b, 0);
      const label = (s: string) => kb.flows.get(flowId)!.questions.find((x) => x.id === s)!.label;
      const steps = Object.entries(f.abandoned).map(([s, n]) => `${label(s)}×${n}`).join('，') || '–';
      expect(funnel).toContainEqual([title(flowId), String(f.started), String(f.submitted), String(abandoned), steps]);
    }
    expect((await rows('#table-unanswered')).map((r) => [r[1], r[0], r[2], r[3]])).toEqual(e.unanswered.map((u) => [u.label, String(u.count), String(u.fallback), String(u.noneOfThese)]));
  });

  it('draws the charts with the bundled chart library, under the server CSP, without errors', async () => {
    const drawn = await page.$$eval('canvas', (cs) =>
      cs.map((c) => {
        const ctx = (c as HTMLCanvasElement).getContext('2d')!;
        const { data } = ctx.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height);
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
        return { id: c.id, painted };
      }),
    );
    expect(drawn.map((d) => d.id)).toEqual(['chart-daily', 'chart-containment', 'chart-handoffs', 'chart-csat', 'chart-funnel']);
    for (const d of drawn) expect(d.painted, d.id).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('narrows to one day and links the CSV export of that range', async () => {
    await page.fill('#from', e.to);
    await page.fill('#to', e.to);
    await page.click('#range button');
    await page.waitForFunction(() => document.querySelector('[data-kpi="conversations"]')?.textContent === '2');
    expect(await page.getAttribute('#csv', 'href')).toBe(`/api/v1/analytics/unanswered.csv?from=${e.to}&to=${e.to}`);
    const csv = await page.evaluate(async (href) => (await fetch(href!)).text(), await page.getAttribute('#csv', 'href'));
    expect(csv).toContain('阿巴阿巴');
    expect(csv).not.toContain('水压');
  });
});
