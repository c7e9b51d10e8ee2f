import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';

// The labelled fixtures the classifier is calibrated on (calib) and judged on (frozen).
// These checks keep the file honest: every label points at something real, every style
// the issue asks for is covered, and the frozen split is a fixed function of the id.

const STYLES = ['short', 'colloquial', 'long', 'english', 'pinyin', 'dialect', 'traditional', 'typo', 'closing', 'out-of-scope', 'handoff', 'urgent', 'complaint'] as const;
const REASONS = ['urgent', 'complaint', 'asked'] as const;
const KEYS = new Set(['id', 'text', 'expect', 'reason', 'alsoItem', 'style', 'split']);

/** Minimum count per style, from the coverage list. */
const MINIMUM: Partial<Record<(typeof STYLES)[number], number>> = {
  long: 120,
  english: 40,
  pinyin: 40,
  dialect: 40,
  traditional: 20,
  typo: 20,
  closing: 30,
  'out-of-scope': 40,
};

interface Fixture {
  id: string;
  text: string;
  expect: string;
  reason?: string;
  alsoItem?: string;
  style: string;
  split: string;
}

/** The frozen split: a salted hash of the id, so adding lines never moves existing ones. */
const splitOf = (id: string) => (parseInt(createHash('sha256').update(`split12946:${id}`).digest('hex').slice(0, 8), 16) % 100 < 20 ? 'frozen' : 'calib');

const lines = readFileSync('test/fixtures/questions.jsonl', 'utf8').split('\n').filter((l) => l.trim());
const fixtures: Fixture[] = lines.map((l) => JSON.parse(l) as Fixture);
const han = /\p{Script=Han}/u;

let kb: KnowledgeBase;
beforeAll(() => {
  kb = loadKnowledge();
});

describe('test/fixtures/questions.jsonl', () => {
  it('has at least 650 messages with unique ids and texts and only known keys', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(650);
    expect(new Set(fixtures.map((f) => f.id)).size).toBe(fixtures.length);
    expect(new Set(fixtures.map((f) => f.text.trim())).size).toBe(fixtures.length);
    for (const f of fixtures) {
      expect(Object.keys(f).filter((k) => !KEYS.has(k)), f.id).toEqual([]);
      expect(typeof f.text === 'string' && f.text.trim().length > 0, f.id).toBe(true);
    }
  });

  it('labels only targets that exist', () => {
    const bad: string[] = [];
    for (const f of fixtures) {
      const [kind, id] = f.expect.includes(':') ? [f.expect.slice(0, f.expect.indexOf(':')), f.expect.slice(f.expect.indexOf(':') + 1)] : [f.expect, ''];
      if (kind === 'item' ? !kb.items.has(id) : kind === 'flow' ? !kb.flows.has(id) : !['handoff', 'out-of-scope', 'smalltalk'].includes(kind)) bad.push(`${f.id} ${f.expect}`);
      if (f.alsoItem !== undefined && !kb.items.has(f.alsoItem)) bad.push(`${f.id} alsoItem ${f.alsoItem}`);
    }
    expect(bad).toEqual([]);
  });

  it('gives every hand-off a reason, and only hand-offs', () => {
    for (const f of fixtures) {
      if (f.expect === 'handoff') expect(REASONS, f.id).toContain(f.reason);
      else expect(f.reason, f.id).toBeUndefined();
      if (f.alsoItem !== undefined) expect(f.expect, f.id).toBe('handoff');
    }
    const byReason = (r: string) => fixtures.filter((f) => f.reason === r).length;
    expect(byReason('urgent') + byReason('complaint')).toBeGreaterThanOrEqual(25);
  });

  it('covers every style the issue asks for', () => {
    const count = new Map<string, number>();
    for (const f of fixtures) {
      expect(STYLES, f.id).toContain(f.style);
      count.set(f.style, (count.get(f.style) ?? 0) + 1);
    }
    for (const [style, min] of Object.entries(MINIMUM)) expect(count.get(style) ?? 0, style).toBeGreaterThanOrEqual(min);
  });

  it('keeps each style true to its name', () => {
    for (const f of fixtures) {
      const n = [...f.text].length;
      if (f.style === 'long') expect(n >= 80 && n <= 300, `${f.id} is ${n} characters`).toBe(true);
      if (f.style === 'english') expect(han.test(f.text), f.id).toBe(false);
      if (f.style === 'pinyin') expect(/[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{2,}/i.test(f.text), f.id).toBe(true);
      if (f.style === 'closing' || f.style === 'out-of-scope') expect(['smalltalk', 'out-of-scope'], f.id).toContain(f.expect);
      if (f.style === 'closing') expect(f.expect, f.id).toBe('smalltalk');
      if (f.style === 'out-of-scope') expect(f.expect, f.id).toBe('out-of-scope');
      if (f.style === 'urgent') expect([f.expect, f.reason], f.id).toEqual(['handoff', 'urgent']);
      if (f.style === 'complaint') expect([f.expect, f.reason], f.id).toEqual(['handoff', 'complaint']);
    }
  });

  it('freezes a stable ~20% chosen by the hash of the id, in every style', () => {
    for (const f of fixtures) expect(f.split, f.id).toBe(splitOf(f.id));
    const frozen = fixtures.filter((f) => f.split === 'frozen').length / fixtures.length;
    expect(frozen).toBeGreaterThan(0.17);
    expect(frozen).toBeLessThan(0.23);
    for (const style of STYLES) {
      const of = fixtures.filter((f) => f.style === style);
      const share = of.filter((f) => f.split === 'frozen').length / of.length;
      expect(share, style).toBeGreaterThanOrEqual(0.14);
      expect(share, style).toBeLessThanOrEqual(0.27);
    }
  });

  it('asks about relief as a whole in the relief flow, not the SME item', () => {
    const all = fixtures.filter((f) => /能享受的都|全部申请|every .*relief|都想申请/.test(f.text));
    expect(all.length).toBeGreaterThan(0);
    for (const f of all) expect(f.expect, f.id).toBe('flow:relief-application');
  });
});
