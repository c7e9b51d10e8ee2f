import { describe, expect, it } from 'vitest';
import { parseBold, parseLight } from '../../widget/src/format.js';

describe('light formatting', () => {
  it('keeps line breaks inside a paragraph and splits paragraphs on blank lines', () => {
    expect(parseLight('第一行\n第二行\n\n新段落')).toEqual([
      { type: 'para', lines: [[{ text: '第一行', bold: false }], [{ text: '第二行', bold: false }]] },
      { type: 'para', lines: [[{ text: '新段落', bold: false }]] },
    ]);
  });

  it('turns consecutive numbered lines into one list, in any of the usual numberings', () => {
    const blocks = parseLight('需要准备：\n1. 身份证\n2、房产证\n3．结清凭证\n请带齐。');
    expect(blocks.map((b) => b.type)).toEqual(['para', 'list', 'para']);
    const list = blocks[1]!;
    expect(list.type === 'list' && list.items.map((i) => i.map((s) => s.text).join(''))).toEqual(['身份证', '房产证', '结清凭证']);
  });

  it('starts a new list when the numbering does not continue', () => {
    const blocks = parseLight('3. 第三步\n4. 第四步\n1. 另一张单子');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatchObject({ type: 'list', start: 3 });
    expect(blocks[1]).toMatchObject({ type: 'list', start: 1 });
  });

  it('marks **bold** runs and leaves an unpaired ** literal', () => {
    expect(parseBold('请在 **5 个工作日** 内补齐')).toEqual([
      { text: '请在 ', bold: false },
      { text: '5 个工作日', bold: true },
      { text: ' 内补齐', bold: false },
    ]);
    expect(parseBold('2**3 等于 8')).toEqual([{ text: '2**3 等于 8', bold: false }]);
    expect(parseBold('****')).toEqual([{ text: '****', bold: false }]);
  });

  it('leaves markup, links and script as literal text', () => {
    const hostile = '<img src=x onerror=alert(1)> [点我](javascript:alert(1)) <script>alert(1)</script>';
    expect(parseLight(hostile)).toEqual([{ type: 'para', lines: [[{ text: hostile, bold: false }]] }]);
  });

  it('treats CRLF like LF and ignores trailing blank lines', () => {
    expect(parseLight('a\r\nb\r\n\r\n')).toEqual([{ type: 'para', lines: [[{ text: 'a', bold: false }], [{ text: 'b', bold: false }]] }]);
  });
});
