import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildWidget } from '../../scripts/build-widget.mjs';
import { createWebChannel, type AllowedOrigins } from '../../src/channels/web/index.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { createMemoryBus, type MessageBus } from '../../src/delivery/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';
import { launchChromium } from './chromium.js';

/**
 * The assistant built in-process (memory stores and bus, the web channel with the demo page), a Chromium, and
 * the pages opened in it. The server can be stopped and started again on the same port over the same stores.
 */
export class WidgetHarness {
  app: FastifyInstance | null = null;
  port = 0;
  /** Messages of every `alert`/`confirm` a page opened (there must be none). */
  readonly dialogs: string[] = [];
  readonly pageErrors: string[] = [];
  private readonly contexts: BrowserContext[] = [];
  private readonly extra: FastifyInstance[] = [];

  private constructor(
    readonly kb: KnowledgeBase,
    readonly stores: Stores,
    readonly bus: MessageBus,
    readonly service: ConversationService,
    readonly browser: Browser,
  ) {}

  /** Builds the widget if stale, the assistant, a listening server on a random port, and Chromium. */
  static async start(): Promise<WidgetHarness> {
    await buildWidget({ quiet: true });
    const kb = loadKnowledge('knowledge', 'flows');
    const stores = createMemoryStores();
    const bus = createMemoryBus();
    const service = createConversationService({ kb, classifier: createClassifier(kb), stores, logger: createLogger('silent'), bus });
    const h = new WidgetHarness(kb, stores, bus, service, await launchChromium());
    await h.listen();
    return h;
  }

  /** Builds the server on the shared service and listens (on `on` when given, else a random port). */
  async listen(on = 0): Promise<void> {
    this.app = await this.build();
    await this.app.listen({ port: on, host: '127.0.0.1' });
    this.port = (this.app.server.address() as AddressInfo).port;
  }

  /** Stops the server (sockets get the reconnect notice and close); the stores and the service stay. */
  async stop(): Promise<void> {
    await this.app?.close();
    this.app = null;
  }

  /** A second server on the same service (another instance), closed with the harness; returns its base URL. */
  async another(allowedOrigins: AllowedOrigins): Promise<string> {
    const app = await this.build(allowedOrigins);
    this.extra.push(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A page in a fresh context (own localStorage) that records dialogs and page errors. */
  async newPage(opts: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
    const ctx = await this.browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN', ...opts });
    this.contexts.push(ctx);
    const p = await ctx.newPage();
    p.on('dialog', (d) => {
      this.dialogs.push(d.message());
      void d.dismiss();
    });
    p.on('pageerror', (e) => this.pageErrors.push(e.message));
    return p;
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser.close();
    for (const a of this.extra) await a.close();
    await this.stop();
  }

  private build(allowedOrigins?: AllowedOrigins): Promise<FastifyInstance> {
    const { service, stores, bus, kb } = this;
    const web = createWebChannel({ service, bus, utility: kb.utility, ...(allowedOrigins ? { allowedOrigins } : {}) });
    return buildServer({ service, stores, logger: createLogger('silent'), channels: [web] });
  }
}

/** expect.poll with room for a loaded machine: the default second is too short when eight suites share two cores. */
export const eventually = <T>(fn: () => T | Promise<T>, opts: { timeout?: number } = {}) => expect.poll(fn, { timeout: 15_000, interval: 100, ...opts });

/** Waits until the locator's first element is visible. */
export const visible = (loc: Locator) => eventually(() => loc.isVisible(), { timeout: 10_000 }).toBe(true);

/** A message as the page shows it: who wrote it, its seq (0 while unsent), its visible text and its author line. */
export interface Shown {
  from: string;
  seq: number;
  text: string;
  who: string;
}

/** Messages on screen, in order. */
export const shown = (p: Page): Promise<Shown[]> =>
  p.locator('.log .msg').evaluateAll((els) =>
    els.map((e) => ({ from: e.className.match(/from-(\w+)/)?.[1] ?? '', seq: Number((e as HTMLElement).dataset.seq ?? 0), text: (e.querySelector('.body') as HTMLElement | null)?.innerText ?? '', who: e.querySelector('.who')?.textContent ?? '' })),
  );

/** Bot messages on screen. */
export const botCount = async (p: Page): Promise<number> => (await shown(p)).filter((m) => m.from === 'bot').length;

/** Waits until more bot messages than `before` are on screen and the typing line is gone; returns the last message's text. */
export async function replies(p: Page, before: number): Promise<string> {
  await eventually(() => botCount(p)).toBeGreaterThan(before);
  await eventually(() => p.locator('.typing').isHidden()).toBe(true);
  return (await shown(p)).filter((m) => m.seq > 0).at(-1)!.text;
}

/** Types a message, presses Enter and waits for the answer. */
export async function ask(p: Page, text: string): Promise<string> {
  const before = await botCount(p);
  await p.locator('textarea').fill(text);
  await p.locator('textarea').press('Enter');
  return replies(p, before);
}

/** Presses the quick reply with that title and waits for the answer. */
export async function click(p: Page, title: string): Promise<string> {
  const before = await botCount(p);
  await p.locator('.quick button', { hasText: title }).first().click();
  return replies(p, before);
}

/** The conversation the page keeps in localStorage. */
export const conversationOf = (p: Page): Promise<string> =>
  p.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith('water-assistant:'))!;
    return JSON.parse(localStorage.getItem(key)!).conversationId as string;
  });

/** The focused element, looking into the widget's shadow root, with its outline. */
export const focused = (p: Page) =>
  p.evaluate(() => {
    let a: Element | null = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    const s = a ? getComputedStyle(a) : null;
    return { tag: a?.tagName.toLowerCase() ?? '', cls: (a as HTMLElement | null)?.className ?? '', text: a?.textContent?.trim() ?? '', outline: s ? `${s.outlineStyle} ${s.outlineWidth}` : '' };
  });

/** Completes 17 digits with the GB 11643 check character (independent of the code under test). */
export function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}
