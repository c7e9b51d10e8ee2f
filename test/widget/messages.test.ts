import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/index.js';
import { strings } from '../../widget/src/i18n.js';
import { authorLabel, buttonTitle } from '../../widget/src/messages.js';

const at = '2026-10-01T02:00:00.000Z';

describe('what a user message shows for a postback', () => {
  const transcript: Message[] = [
    { seq: 1, from: 'bot', at, text: '原房主的水费都结清了吗？', quickReplies: [{ title: '是', postback: 'yes' }, { title: '否', postback: 'no' }] },
    { seq: 2, from: 'user', at, text: 'yes' },
    { seq: 3, from: 'bot', at, text: '可容缺的材料您都能提供吗？', quickReplies: [{ title: '都能提供', postback: 'yes' }, { title: '暂时缺少', postback: 'no' }] },
    { seq: 4, from: 'user', at, text: 'yes' },
  ];

  it('is the title of the button in the nearest earlier message that offered it', () => {
    expect(buttonTitle(transcript, 'yes', 2)).toBe('是');
    expect(buttonTitle(transcript, 'yes', 4)).toBe('都能提供');
    expect(buttonTitle(transcript, 'no', 4)).toBe('暂时缺少');
  });

  it('is nothing for text no button offered (then the text itself is shown)', () => {
    expect(buttonTitle(transcript, '过户要带什么', 5)).toBeUndefined();
    expect(buttonTitle(transcript, 'yes', 1)).toBeUndefined();
  });
});

describe('who wrote a message', () => {
  const zh = strings('zh');
  const en = strings('en');
  it('names agents as 人工客服 <name>, without doubling a name that already says so', () => {
    expect(authorLabel({ from: 'agent', author: '王芳' }, zh)).toBe('人工客服 王芳');
    expect(authorLabel({ from: 'agent', author: '人工客服 王芳' }, zh)).toBe('人工客服 王芳');
    expect(authorLabel({ from: 'agent' }, zh)).toBe('人工客服');
    expect(authorLabel({ from: 'agent', author: 'Wang Fang' }, en)).toBe('Agent Wang Fang');
    expect(authorLabel({ from: 'bot' }, zh)).toBe('智能客服');
    expect(authorLabel({ from: 'system' }, en)).toBe('Notice');
  });
});
