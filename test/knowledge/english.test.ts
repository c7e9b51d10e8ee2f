import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { formatIssue, lintKnowledge, loadCatalog, loadKnowledge, type Catalog, type KnowledgeBase, type KnowledgeIssue } from '../../src/knowledge/index.js';
import { SUMMARY_EN_MAX } from '../../src/knowledge/lint.js';

const han = /\p{Script=Han}/u;

let catalog: Catalog;
let kb: KnowledgeBase;
let root: string;
let n = 0;

beforeAll(() => {
  catalog = loadCatalog();
  kb = loadKnowledge();
  root = mkdtempSync(join(tmpdir(), 'english-test-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('English fields of the real knowledge base', () => {
  const guides = () => [...[...kb.items.values()].map((i) => ({ name: i.id, ...i })), ...[...kb.flows.values()].map((f) => ({ name: `flow ${f.id}`, ...f }))];

  it('gives every item and flow an English title, 3–6 phrasings and a short English summary', () => {
    expect(kb.items.size).toBe(catalog.items.length);
    expect(kb.flows.size).toBe(catalog.flows.length);
    for (const g of guides()) {
      expect(g.titleEn.trim().length, g.name).toBeGreaterThan(3);
      expect(g.aliasesEn.length, g.name).toBeGreaterThanOrEqual(3);
      expect(g.aliasesEn.length, g.name).toBeLessThanOrEqual(6);
      expect(g.summaryEn.length, g.name).toBeLessThanOrEqual(SUMMARY_EN_MAX);
      expect(g.summaryEn.length, g.name).toBeGreaterThan(80);
      for (const s of [g.titleEn, ...g.aliasesEn, g.summaryEn]) expect(han.test(s), `${g.name}: ${s}`).toBe(false);
    }
  });

  it('says "for reference" where the Chinese guide gives sample figures', () => {
    for (const id of ['late-fee-waiver', 'low-income-relief', 'leak-detection', 'meter-calibration', 'ladder-population']) {
      expect(kb.items.get(id)!.summaryEn, id).toMatch(/for reference/i);
    }
  });

  it('keeps the figures of the Chinese answer in the English summary', () => {
    const cases: [string, RegExp][] = [
      ['connect-nonresidential', /2 calendar days[\s\S]*DN100/],
      ['connect-small-lowrisk', /DN40/],
      ['transfer-ownership', /1 working day/],
      ['find-account-number', /10 digits/],
      ['service-hall-hours', /8:30 to 17:30/],
      ['online-channels', /30 water service items/],
      ['meter-calibration', /10 working days[\s\S]*60 yuan/],
    ];
    for (const [id, re] of cases) expect(kb.items.get(id)!.summaryEn, id).toMatch(re);
  });
});

describe('lint of the English fields on a broken copy', () => {
  function copy(): { knowledge: string; flows: string } {
    const dir = join(root, `case-${++n}`);
    const knowledge = join(dir, 'knowledge');
    const flows = join(dir, 'flows');
    cpSync('knowledge', knowledge, { recursive: true });
    cpSync('flows', flows, { recursive: true });
    return { knowledge, flows };
  }
  const itemPath = (d: { knowledge: string }, id: string) => join(d.knowledge, 'items', `${id}.yaml`);
  const flowPath = (d: { flows: string }, id: string) => join(d.flows, `${id}.yaml`);
  const edit = (path: string, change: (data: Record<string, unknown>) => void) => {
    const data = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    change(data);
    writeFileSync(path, stringify(data));
  };
  const lint = (d: { knowledge: string; flows: string }) => lintKnowledge(d.knowledge, d.flows, catalog);
  const issueFor = (issues: KnowledgeIssue[], file: string, field: string) => issues.find((i) => i.file.endsWith(file) && i.field === field);

  it('a clean copy lints clean', () => {
    expect(lint(copy()).map(formatIssue)).toEqual([]);
  });

  for (const field of ['titleEn', 'aliasesEn', 'summaryEn']) {
    it(`reports an item without ${field}, naming file and field`, () => {
      const d = copy();
      edit(itemPath(d, 'invoice'), (x) => delete x[field]);
      const issues = lint(d);
      expect(issueFor(issues, 'invoice.yaml', field), issues.map(formatIssue).join('\n')).toBeDefined();
      expect(() => loadKnowledge(d.knowledge, d.flows)).toThrow(new RegExp(`invoice\\.yaml: ${field}:`));
    });

    it(`reports a flow without ${field}`, () => {
      const d = copy();
      edit(flowPath(d, 'renovation'), (x) => delete x[field]);
      const issues = lint(d);
      expect(issueFor(issues, 'renovation.yaml', field), issues.map(formatIssue).join('\n')).toBeDefined();
    });
  }

  it('reports an empty English title', () => {
    const d = copy();
    edit(itemPath(d, 'bill-query'), (x) => (x.titleEn = '  '));
    expect(issueFor(lint(d), 'bill-query.yaml', 'titleEn')?.problem).toBe('must not be empty');
  });

  it('reports Chinese in an English field', () => {
    const d = copy();
    edit(itemPath(d, 'water-quality'), (x) => (x.summaryEn = `${String(x.summaryEn)} 请拨打热线。`));
    edit(flowPath(d, 'buy-house'), (x) => ((x.aliasesEn as string[])[1] = '二手房 water'));
    const issues = lint(d);
    expect(issueFor(issues, 'water-quality.yaml', 'summaryEn')?.problem).toMatch(/English only/);
    expect(issueFor(issues, 'buy-house.yaml', 'aliasesEn.1')?.problem).toMatch(/English only/);
  });

  it('reports full-width punctuation in an English title', () => {
    const d = copy();
    edit(itemPath(d, 'appointment'), (x) => (x.titleEn = 'Appointments（weekends）'));
    expect(issueFor(lint(d), 'appointment.yaml', 'titleEn')?.problem).toMatch(/English only/);
  });

  it('reports a summary longer than the limit', () => {
    const d = copy();
    edit(itemPath(d, 'repair-report'), (x) => (x.summaryEn = 'Call us. '.repeat(80)));
    expect(issueFor(lint(d), 'repair-report.yaml', 'summaryEn')?.problem).toMatch(/at most 600/);
  });

  it('reports too few or too many English phrasings', () => {
    const d = copy();
    edit(itemPath(d, 'auto-debit'), (x) => (x.aliasesEn = ['direct debit', 'auto pay']));
    edit(itemPath(d, 'invoice'), (x) => (x.aliasesEn = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'].map((a) => `invoice ${a}`)));
    const issues = lint(d);
    expect(issueFor(issues, 'auto-debit.yaml', 'aliasesEn')?.problem).toMatch(/3–6/);
    expect(issueFor(issues, 'invoice.yaml', 'aliasesEn')?.problem).toMatch(/3–6/);
  });

  it('reports an English phrasing shared by two guides', () => {
    const d = copy();
    const taken = kb.items.get('bill-query')!.aliasesEn[0]!;
    edit(itemPath(d, 'payment-channels'), (x) => ((x.aliasesEn as string[])[0] = taken.toUpperCase()));
    expect(issueFor(lint(d), 'payment-channels.yaml', 'aliasesEn.0')?.problem).toContain('bill-query');
  });

  it('reports a sample figure stated as fact', () => {
    const d = copy();
    edit(itemPath(d, 'late-fee-waiver'), (x) => (x.summaryEn = String(x.summaryEn).replace(/for reference, /gi, '')));
    expect(issueFor(lint(d), 'late-fee-waiver.yaml', 'summaryEn')?.problem).toMatch(/for reference/);
  });
});
