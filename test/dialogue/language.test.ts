/** Which language the engine answers in: the message's own, else the last one shown, else the conversation's. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initialState, step, type DialogueContext, type DialogueState } from '../../src/dialogue/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';

let kb: KnowledgeBase;
let base: DialogueContext;
beforeAll(() => {
  kb = loadKnowledge();
  base = { kb, classifier: createClassifier(kb), now: new Date('2026-09-30T02:00:00Z'), conversationId: 'c1' };
});

const say = (ctx: DialogueContext, s: DialogueState, text: string) => step(ctx, s, { kind: 'text', text });

describe('reply language', () => {
  it('answers a Chinese message in an English conversation in Chinese, with no English heading', () => {
    const r = say({ ...base, lang: 'en' }, initialState(), '水表坏了怎么报修');
    expect(r.state.itemId).toBe('repair-report');
    expect(r.replies.every((x) => x.lang === 'zh')).toBe(true);
    expect(r.replies[0]!.text).not.toContain(kb.items.get('repair-report')!.titleEn);
    expect(r.state.lang).toBe('zh');
  });

  it('answers an English message in a Chinese conversation in English, and keeps English for the buttons that follow', () => {
    const first = say(base, initialState(), 'my water meter is broken');
    expect(first.replies[0]!.lang).toBe('en');
    expect(first.replies[0]!.text.startsWith(kb.items.get('repair-report')!.titleEn)).toBe(true);
    const press = first.replies[0]!.quickReplies!.find((q) => q.postback === 'item:repair-report:fees')!;
    expect(press.title).toBe(kb.utility.en!.aspects.fees);
    const next = step(base, first.state, { kind: 'postback', payload: press.postback });
    expect(next.replies[0]!.lang).toBe('en');
    expect(next.replies[0]!.text).toContain('「供水设施故障报修」收费');
  });

  it('keeps the language of the last message for a message with no letters (numbers, emoji)', () => {
    const first = say({ ...base, lang: 'en' }, initialState(), '过户要带什么');
    expect(say({ ...base, lang: 'en' }, first.state, '👍').replies.every((x) => x.lang === 'zh')).toBe(true);
    expect(say({ ...base, lang: 'en' }, initialState(), '👍').replies.every((x) => x.lang === 'en')).toBe(true);
  });

  it('offers clarify buttons by their English titles', () => {
    const u = base.classifier.classify('discount');
    expect(u.decision).toBe('clarify');
    const r = say(base, initialState(), 'discount');
    expect(r.replies[0]!.lang).toBe('en');
    expect(r.replies[0]!.text).toBe(kb.utility.en!.clarify);
    for (const key of u.options ?? []) {
      const [kind, id] = key.split(':') as [string, string];
      const titleEn = kind === 'item' ? kb.items.get(id)!.titleEn : kb.flows.get(id)!.titleEn;
      expect(r.replies[0]!.quickReplies!.map((q) => q.title)).toContain(titleEn);
    }
  });

  it('answers in Chinese where the utility gives no English words, except the guide heading', () => {
    const plain = { ...kb, utility: { ...kb.utility, en: undefined } } as KnowledgeBase;
    const r = say({ ...base, kb: plain }, initialState(), 'thank you');
    expect(r.replies.every((x) => x.lang !== undefined)).toBe(true);
    expect(say({ ...base, kb: plain, lang: 'en' }, initialState(), 'my water meter is broken').replies[0]!.text.startsWith(kb.items.get('repair-report')!.titleEn)).toBe(true);
  });
});
