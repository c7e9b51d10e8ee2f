/** Control words are data: knowledge/intents.yaml `control:`, validated at load, read by src/dialogue/controls.ts. */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlsOf, type Controls } from '../../src/dialogue/controls.js';
import { loadKnowledge, readKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';

let kb: KnowledgeBase;
let c: Controls;
const dirs: string[] = [];
beforeAll(() => {
  kb = loadKnowledge();
  c = controlsOf(kb);
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of knowledge/ with intents.yaml changed by `edit`. */
function knowledgeWith(edit: (intents: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-'));
  dirs.push(dir);
  cpSync('knowledge', dir, { recursive: true });
  const intents = parse(readFileSync(join(dir, 'intents.yaml'), 'utf8')) as Record<string, unknown>;
  edit(intents);
  writeFileSync(join(dir, 'intents.yaml'), stringify(intents));
  return dir;
}

describe('control words', () => {
  it('reads yes and no only from a yes/no word with nothing else of substance', () => {
    expect(c.yesNo('是的呀')).toBe(true);
    expect(c.yesNo('要')).toBe(true);
    expect(c.yesNo('嗯，需要')).toBe(true);
    expect(c.yesNo('没问题')).toBe(true);
    expect(c.yesNo('不用了')).toBe(false);
    expect(c.yesNo('冇得')).toBe(false);
    expect(c.yesNo('没有')).toBe(false);
    // Questions and other sentences are not answers.
    expect(c.yesNo('可以先不签吗')).toBeNull();
    expect(c.yesNo('对了，营业厅中午能办吗')).toBeNull();
    expect(c.yesNo('需要，下周三')).toBeNull();
    expect(c.yesNo('我家厨房漏水了')).toBeNull();
    // Words of the question itself are no substance.
    expect(c.yesNo('不需要报停', '装修期间需要暂停用水（报停）吗？')).toBe(false);
    expect(c.yesNo('不需要报停')).toBeNull();
  });

  it('knows back, cancel and edit, with fillers around them', () => {
    expect(c.is('back', '按错了，返回上一步')).toBe(true);
    expect(c.is('back', '返回上一步')).toBe(true);
    expect(c.is('back', '上一步的手机号填错了')).toBe(false);
    expect(c.is('cancel', '算了不办了')).toBe(true);
    expect(c.is('cancel', '取消')).toBe(true);
    expect(c.is('cancel', '取消转人工')).toBe(false);
    expect(c.is('edit', '电话填错了')).toBe(true);
    expect(c.is('skip', '跳过，稍后补充')).toBe(true);
    expect(c.is('where', '我刚才办到哪了')).toBe(true);
    expect(c.isQuestion('营业厅中午能办吗')).toBe(true);
  });

  it('takes the words from the data: a word removed from intents.yaml is no longer understood', () => {
    const dir = knowledgeWith((i) => {
      const control = i.control as { no: { exact: string[] }; back: { exact: string[] }; fillers: string[] };
      control.no.exact = control.no.exact.filter((w) => w !== '冇得');
      control.fillers = control.fillers.filter((w) => w !== '按错了');
    });
    const other = controlsOf(loadKnowledge(dir, 'flows'));
    expect(other.yesNo('冇得')).toBeNull();
    expect(other.is('back', '按错了，返回上一步')).toBe(false);
    expect(other.is('back', '返回上一步')).toBe(true);
  });

  it('is validated at load: a missing or malformed control section names the file and the field', () => {
    const missing = readKnowledge(knowledgeWith((i) => delete i.control), 'flows');
    expect(missing.issues.some((x) => x.file.endsWith('intents.yaml') && x.field === 'control')).toBe(true);
    const empty = readKnowledge(knowledgeWith((i) => ((i.control as Record<string, unknown>).back = { exact: [] })), 'flows');
    expect(empty.issues.some((x) => x.file.endsWith('intents.yaml') && x.field.startsWith('control.back'))).toBe(true);
    const typo = readKnowledge(knowledgeWith((i) => ((i.control as Record<string, unknown>).cancle = { exact: ['取消'] })), 'flows');
    expect(typo.issues.some((x) => x.file.endsWith('intents.yaml') && x.field.startsWith('control'))).toBe(true);
  });

  it('leaves no control-word regex, city name or hotline number in src/dialogue', () => {
    for (const f of readdirSync('src/dialogue')) {
      const src = readFileSync(join('src/dialogue', f), 'utf8');
      expect(src, f).not.toMatch(/武汉|96510/);
      expect(src, f).not.toMatch(/取消办理\|/);
      expect(src, f).not.toMatch(/上一步\|/);
      expect(src, f).not.toMatch(/'是的', '是'/);
    }
  });
});
