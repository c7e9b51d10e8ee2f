import { describe, expect, it } from 'vitest';
import { cardText, lastQuickReplies, numberedMenu, pickNumbered, renderText, splitText } from '../../src/channels/render-text.js';
import type { Message } from '../../src/core/index.js';

const qr = [{ title: '多久办好', postback: 'item:x:timeLimit' }, { title: '转人工', postback: 'handoff' }];

describe('shared text renderer', () => {
  it('turns buttons into a numbered menu on text platforms and keeps them on button platforms', () => {
    expect(renderText([{ text: '您好', quickReplies: qr }], { maxTextChars: 600 })).toEqual([{ text: '您好\n\n回复数字选择：\n1. 多久办好\n2. 转人工' }]);
    expect(renderText([{ text: '您好', quickReplies: qr }], { maxTextChars: 600, buttons: true })).toEqual([{ text: '您好', quickReplies: qr }]);
    expect(numberedMenu(qr, 'en')).toBe('Reply with a number:\n1. 多久办好\n2. 转人工');
  });

  it('adds a card as text, without repeating what the text says', () => {
    const card = { type: 'application' as const, ref: 'WS20261130-0001', title: '拆迁销户一件事', status: '已提交', dueDate: '2026-12-03', fields: [{ label: '手机号', value: '139****5678' }] };
    const [out] = renderText([{ text: '已提交，办件编号：WS20261130-0001', card }], { maxTextChars: 600 });
    expect(out!.text).toBe('已提交，办件编号：WS20261130-0001\n\n【拆迁销户一件事】\n状态：已提交\n预计办结：2026-12-03\n手机号：139****5678');
    expect(cardText({ type: 'checklist', title: '材料清单', entries: [{ name: '身份证', requirement: '必备', commitment: false }, { name: '结清凭证', requirement: '可容缺', commitment: true }] })).toBe('【材料清单】\n· 身份证（必备）\n· 结清凭证（可容缺，可告知承诺）');
    expect(renderText([{ text: 'x', card }], { maxTextChars: 600, cards: true })).toEqual([{ text: 'x' }]);
  });

  it('splits long text under the limit at line or sentence ends, counting characters, losing nothing', () => {
    const text = Array.from({ length: 40 }, (_, i) => `第${i + 1}条：按规定办理相关手续。😀`).join('\n');
    const parts = splitText(text, 100);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect([...p].length).toBeLessThanOrEqual(100);
    expect(parts.join('\n')).toBe(text);
    expect(splitText('水'.repeat(250), 100).map((p) => p.length)).toEqual([100, 100, 50]);
    const split = renderText([{ text: '水'.repeat(150), quickReplies: qr }], { maxTextChars: 100, buttons: true });
    expect(split.map((m) => !!m.quickReplies)).toEqual([false, true]);
  });

  it('a typed number picks from the latest menu only', () => {
    const msg = (seq: number, from: Message['from'], quickReplies?: typeof qr): Message => ({ seq, from, at: '', text: 't', ...(quickReplies ? { quickReplies } : {}) });
    expect(lastQuickReplies([msg(1, 'bot', qr), msg(2, 'user'), msg(3, 'bot')])).toEqual([]);
    expect(lastQuickReplies([msg(1, 'user'), msg(2, 'bot', qr), msg(3, 'bot')])).toEqual(qr);
    expect(pickNumbered('2', qr)).toBe('handoff');
    expect(pickNumbered(' ２ ', qr)).toBe('handoff');
    expect(pickNumbered('3', qr)).toBeUndefined();
    expect(pickNumbered('2个', qr)).toBeUndefined();
  });
});
