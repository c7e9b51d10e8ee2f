/**
 * The channel contract: what every adapter (web, cli, telegram, wechat) must do for a resident, driven
 * through the adapter's own platform surface. Each adapter's test file builds a `ChannelDriver` and calls
 * `channelContract`. The driver speaks the platform (a socket, a terminal, a webhook and a fake Bot API);
 * the suite only says what a person sees.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../src/channels/types.js';
import type { ConversationService } from '../../src/conversation/index.js';
import type { Message } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';

/** What the user sees after one action, as the platform shows it. */
export interface Seen {
  /** Message texts, in order (menus and card text included when the platform shows them as text). */
  texts: string[];
  /** Button titles shown as real buttons (empty on text-only platforms). */
  buttons: string[];
  /** Card types shown natively (empty when cards are degraded to text). */
  cards: string[];
}

/** Drives one adapter as a resident would. */
export interface ChannelDriver {
  adapter: ChannelAdapter;
  service: ConversationService;
  /** Types a message; resolves with everything the user sees in answer. */
  say(text: string): Promise<Seen>;
  /** Presses the button (or answers the numbered menu item) whose title matches, from what was seen last. */
  press(title: RegExp): Promise<Seen>;
  /** The conversation address this user's messages live under. */
  conversationId(): string;
  /** Resolves with the text of the first message the user receives (without sending) that matches. */
  received(match: RegExp): Promise<string>;
  close(): Promise<void>;
}

/** Builds a fresh driver (fresh stores) for one test. */
export type DriverFactory = (deps: { kb: KnowledgeBase; classifier: Classifier }) => Promise<ChannelDriver>;

/** The number a text platform's menu gives the item whose title matches (`2. 多久办好` → `2`). */
export function menuNumber(texts: string[], title: RegExp): string {
  for (const text of [...texts].reverse()) {
    for (const line of text.split('\n').reverse()) {
      const m = /^\s*(\d{1,2})[.、)]\s*(.+)$/.exec(line);
      if (m && title.test(m[2]!)) return m[1]!;
    }
  }
  throw new Error(`no menu item matching ${title} in: ${texts.join('\n---\n').slice(0, 400)}`);
}

/** What the user sees of stored messages on a platform that shows buttons and cards natively. */
export function seenOf(messages: Message[]): Seen {
  const shown = messages.filter((m) => m.from !== 'user');
  return { texts: shown.map((m) => m.text), buttons: shown.flatMap((m) => m.quickReplies?.map((q) => q.title) ?? []), cards: shown.flatMap((m) => (m.card ? [m.card.type] : [])) };
}

/** Runs the channel contract against the driver the factory builds. */
export function channelContract(label: string, factory: DriverFactory): void {
  describe(`channel contract: ${label}`, () => {
    let kb: KnowledgeBase;
    let classifier: Classifier;
    let d: ChannelDriver | undefined;
    const driver = async () => (d = await factory({ kb, classifier }));

    beforeAll(() => {
      kb = loadKnowledge('knowledge', 'flows');
      classifier = createClassifier(kb);
    });
    afterEach(async () => {
      await d?.close();
      d = undefined;
    });

    const guide = () => kb.items.get('transfer-ownership')!;
    const userMessages = async (dr: ChannelDriver) => (await dr.service.history(dr.conversationId(), 0, 500)).filter((m) => m.from === 'user').map((m) => m.text);

    it('text in, replies out: a guide question gets the guide answer', async () => {
      const dr = await driver();
      const seen = await dr.say('水表过户');
      const all = seen.texts.join('\n');
      expect(all).toContain(guide().answer.slice(0, 12));
      expect(all).not.toMatch(/\[object Object\]|undefined|\{"/);
      expect(await userMessages(dr)).toEqual(['水表过户']);
    });

    it('rich replies degrade to text where the platform lacks them', async () => {
      const dr = await driver();
      const seen = await dr.say('水表过户');
      const all = seen.texts.join('\n');
      if (dr.adapter.capabilities.cards) expect(seen.cards).toContain('guide');
      else expect(all).toMatch(/办理时限：/);
      if (dr.adapter.capabilities.buttons) expect(seen.buttons).toContain('多久办好');
      else {
        expect(all).toMatch(/^\s*\d{1,2}[.、)]\s*多久办好$/m);
        expect(seen.buttons).toEqual([]);
      }
      for (const text of seen.texts) expect([...text].length).toBeLessThanOrEqual(dr.adapter.capabilities.maxTextChars || Infinity);
    });

    it('postback round trip: a pressed button comes back as its postback and is answered', async () => {
      const dr = await driver();
      await dr.say('水表过户');
      const seen = await dr.press(/^多久办好$/);
      expect(seen.texts.join('\n')).toContain(guide().title);
      expect((await userMessages(dr)).at(-1)).toBe('item:transfer-ownership:timeLimit');
    });

    it('the same conversation continues on the next message', async () => {
      const dr = await driver();
      await dr.say('水表过户');
      const id = dr.conversationId();
      const asked = await dr.press(/我要办理/);
      expect(asked.texts.join('\n')).toMatch(/户号/);
      const next = await dr.say('1002345678');
      expect(dr.conversationId()).toBe(id);
      const text = next.texts.join('\n');
      expect(text).not.toMatch(/户号是 10 位数字|没有完全理解/);
      expect(text.length).toBeGreaterThan(0);
      expect(await userMessages(dr)).toEqual(['水表过户', 'apply:transfer-ownership', '10******78']);
    });

    it('proactive send: an agent message reaches the user without a user message', async () => {
      const dr = await driver();
      await dr.say('你好');
      const arriving = dr.received(/我是人工客服小李/);
      await dr.service.post(dr.conversationId(), [{ from: 'agent', text: '您好，我是人工客服小李，请问有什么可以帮您？', author: '人工客服 小李' }]);
      expect(await arriving).toContain('我是人工客服小李');
    });
  });
}
