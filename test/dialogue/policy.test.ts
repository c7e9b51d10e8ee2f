/** "还在执行吗" about a 2020 policy is answered from the guide's validFrom / validUntil, through the engine. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initialState, step, type DialogueContext } from '../../src/dialogue/index.js';
import { guideButtons } from '../../src/dialogue/render.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';

let kb: KnowledgeBase;
let ctx: DialogueContext;
beforeAll(() => {
  kb = loadKnowledge();
  ctx = { kb, classifier: createClassifier(kb), now: new Date('2026-12-04T02:00:00Z'), conversationId: 'policy' };
});

const ask = (c: DialogueContext, text: string) => step(c, initialState(), { kind: 'text', text }).replies.map((r) => r.text).join('\n');

describe('还在执行吗', () => {
  it.each([
    ['小微企业用水优惠政策还在执行吗', '中小微企业用水优惠'],
    ['停征污水处理费现在还有吗', '受影响较大的中小企业停征污水处理费'],
    ['疫情期间不收违约金的政策还在执行吗', '疫情期间不计收欠费违约金'],
  ])('%s → past tense, dates from data, hotline', (text, policy) => {
    const said = ask(ctx, text);
    expect(said).toContain(`「${policy}`);
    expect(said).toContain('阶段性政策');
    expect(said).toContain(`现行政策请咨询 ${kb.utility.hotline}`);
    expect(said).not.toContain('正在执行');
  });

  it('follows the data: a policy with a future validUntil is told as current, an ended one as ended', () => {
    const item = kb.items.get('sewage-fee-exemption')!;
    const withEnd = (validUntil: string): DialogueContext => {
      const items = new Map(kb.items);
      items.set(item.id, { ...item, policies: [{ ...item.policies[0]!, validUntil }] });
      return { ...ctx, kb: { ...kb, items } };
    };
    expect(ask(withEnd('2027-03-31'), '停征污水处理费现在还有吗')).toContain('正在执行：自 2020 年 3 月 18 日起，执行至 2027 年 3 月 31 日');
    expect(ask(withEnd('2020-12-31'), '停征污水处理费现在还有吗')).toContain('已经到期');
  });

  it('offers the question as a button only under guides with a policy', () => {
    expect(guideButtons(kb, kb.items.get('discount-sme')!).map((b) => b.postback)).toContain('item:discount-sme:policy');
    expect(guideButtons(kb, kb.items.get('transfer-ownership')!).map((b) => b.postback)).not.toContain('item:transfer-ownership:policy');
  });
});
