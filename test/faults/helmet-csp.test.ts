import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildWidget } from '../../scripts/build-widget.mjs';
import { createWebChannel } from '../../src/channels/web/index.js';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { createMemoryBus } from '../../src/delivery/index.js';
import { loadKnowledge } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { CHROMIUM, chromiumSuite } from '../browser/chromium.js';

const suite = chromiumSuite('helmet headers in Chromium');
let app: FastifyInstance;
let port = 0;
let browser: Browser | undefined;

beforeAll(async () => {
  await buildWidget();
  const kb = loadKnowledge('knowledge', 'flows');
  const stores = createMemoryStores();
  const bus = createMemoryBus();
  const logger = createLogger('silent');
  const service = createConversationService({ kb, classifier: createClassifier(kb), stores, logger, bus });
  app = await buildServer({ service, stores, logger, channels: [createWebChannel({ service, bus, utility: kb.utility })] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

it('helmet headers: a CSP without inline script, and a widget bundle other sites may load', async () => {
  const page = await app.inject({ url: '/' });
  const csp = String(page.headers['content-security-policy']);
  expect(csp).toMatch(/script-src 'self'(;|$)/);
  expect(csp).toContain("object-src 'none'");
  expect(page.headers['x-content-type-options']).toBe('nosniff');
  // The demo over plain HTTP on a LAN address must not have its requests upgraded to an https:// nobody serves.
  expect(csp).not.toContain('upgrade-insecure-requests');
  const js = await app.inject({ url: '/widget.js' });
  expect(js.statusCode).toBe(200);
  expect(js.headers['cross-origin-resource-policy']).toBe('cross-origin');
});

suite('the demo page under helmet’s own policy', () => {
  it('opens, starts a conversation over the socket and answers, served over plain HTTP from a non-loopback name', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--host-resolver-rules=MAP assistant.test 127.0.0.1'],
    });
    const ctx = await browser.newContext({ locale: 'zh-CN' });
    const p = await ctx.newPage();
    const problems: string[] = [];
    p.on('console', (m) => {
      if (/Content Security Policy|Refused|Mixed Content/i.test(m.text())) problems.push(m.text());
    });
    p.on('pageerror', (e) => problems.push(e.message));
    const sockets: string[] = [];
    p.on('websocket', (ws) => sockets.push(ws.url()));
    await p.goto(`http://assistant.test:${port}/`);
    await p.locator('.bubble').click();
    await expect.poll(() => p.locator('.log .msg.from-bot').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await p.locator('textarea').fill('水表过户');
    await p.keyboard.press('Enter');
    await expect.poll(() => p.locator('.log .msg.from-bot').count(), { timeout: 15_000 }).toBeGreaterThan(1);
    // Styles from the constructable stylesheet applied.
    expect(await p.locator('.panel').evaluate((e) => getComputedStyle(e).position)).toBe('fixed');
    expect(sockets.some((u) => u.startsWith(`ws://assistant.test:${port}/api/v1/conversations/`))).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);
});
