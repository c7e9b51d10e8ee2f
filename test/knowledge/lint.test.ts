import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  KnowledgeError,
  foldText,
  formatIssue,
  guideText,
  keyFigures,
  lintKnowledge,
  loadCatalog,
  loadKnowledge,
  type Catalog,
  type KnowledgeBase,
  type KnowledgeIssue,
} from '../../src/knowledge/index.js';

let catalog: Catalog;
let kb: KnowledgeBase;

beforeAll(() => {
  catalog = loadCatalog();
  kb = loadKnowledge();
});

const yamlIds = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: f, id: (parse(readFileSync(join(dir, f), 'utf8')) as { id?: unknown }).id }));

describe('the real knowledge base', () => {
  it('lints clean', () => {
    const issues = lintKnowledge('knowledge', 'flows', catalog);
    expect(issues.map(formatIssue)).toEqual([]);
  });

  it('has exactly one guide file per catalog item, named after its id', () => {
    const files = yamlIds('knowledge/items');
    expect(files.map((f) => f.id).sort()).toEqual(catalog.items.map((i) => i.id).sort());
    for (const f of files) expect(f.file).toBe(`${f.id}.yaml`);
    expect(new Set(files.map((f) => f.id)).size).toBe(files.length);
  });

  it('has exactly one flow file per catalog flow, named after its id', () => {
    const files = yamlIds('flows');
    expect(files.map((f) => f.id).sort()).toEqual(catalog.flows.map((f) => f.id).sort());
    for (const f of files) expect(f.file).toBe(`${f.id}.yaml`);
  });

  it('states every key figure of every catalog fact in the guide', () => {
    const missing: string[] = [];
    for (const c of catalog.items) {
      const text = foldText(guideText(kb.items.get(c.id)!));
      for (const fact of c.facts) for (const fig of keyFigures(fact)) if (!text.includes(foldText(fig))) missing.push(`${c.id}: "${fig}" of ${fact}`);
    }
    expect(missing).toEqual([]);
  });

  it('states every key figure of the utility facts', () => {
    const u = kb.utility;
    const text = foldText([...u.facts, ...u.channels.map((c) => c.description), u.hallHours].join('\n'));
    for (const fact of catalog.utility.facts) for (const fig of keyFigures(fact)) expect(text, fact).toContain(foldText(fig));
    expect(u.hotline).toBe(catalog.utility.hotline);
  });

  it('finds the figures a guide must repeat', () => {
    expect(keyFigures('接入通水办理时长 2 个自然日（原 3 个工作日）')).toEqual(['2个自然日', '3个工作日']);
    expect(keyFigures('申请接入管径 DN100（含）以下的非居民用户工程：“零跑腿、零资料、零费用”')).toEqual(['DN100', '零跑腿、零资料、零费用']);
    expect(foldText('“零跑腿” 2 个自然日 DN100mm')).toBe('零跑腿2个自然日DN100');
  });

  it('connect-nonresidential: 2 自然日, no materials, DN100', () => {
    const item = kb.items.get('connect-nonresidential')!;
    expect(item.timeLimit.value).toBe(2);
    expect(item.timeLimit.unit).toBe('自然日');
    expect(item.materials).toEqual([]);
    expect(guideText(item)).toContain('DN100');
    expect(item.answer).toContain('DN100');
  });

  it('connect-small-lowrisk: DN40 and the 五零', () => {
    const text = guideText(kb.items.get('connect-small-lowrisk')!);
    expect(text).toContain('DN40');
    expect(text).toContain('五零');
    expect(text).toContain('零跑腿、零环节、零费用、零时长、零资料');
  });

  it('connect-green-channel: 先通水后交费', () => {
    expect(guideText(kb.items.get('connect-green-channel')!)).toContain('先通水后交费');
  });

  it('online-channels: 30 项', () => {
    expect(foldText(guideText(kb.items.get('online-channels')!))).toContain('30项');
    expect(guideText(kb.items.get('online-channels')!)).toMatch(/30\s?项/);
  });

  it('utility facts: 78.12%', () => {
    expect(kb.utility.facts.join('\n')).toContain('78.12%');
  });

  it.runIf(existsSync('../shared/domain/catalog.yaml'))('keeps knowledge/catalog.yaml identical to the shared catalog', () => {
    expect(readFileSync('knowledge/catalog.yaml', 'utf8')).toBe(readFileSync('../shared/domain/catalog.yaml', 'utf8'));
  });
});

describe('lint on a broken copy', () => {
  let root: string;
  let n = 0;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lint-test-'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** A fresh copy of knowledge/ and flows/ for one test. */
  function copy(): { knowledge: string; flows: string } {
    const dir = join(root, `case-${++n}`);
    const knowledge = join(dir, 'knowledge');
    const flows = join(dir, 'flows');
    cpSync('knowledge', knowledge, { recursive: true });
    cpSync('flows', flows, { recursive: true });
    return { knowledge, flows };
  }

  const itemFile = (knowledge: string, id: string) => join(knowledge, 'items', `${id}.yaml`);
  const readItem = (knowledge: string, id: string) => parse(readFileSync(itemFile(knowledge, id), 'utf8')) as Record<string, unknown> & { examples: string[]; related: string[] };
  const writeItem = (knowledge: string, id: string, data: unknown) => writeFileSync(itemFile(knowledge, id), stringify(data));
  const lint = (d: { knowledge: string; flows: string }) => lintKnowledge(d.knowledge, d.flows, catalog);
  const about = (issues: KnowledgeIssue[], file: string) => issues.filter((i) => i.file.endsWith(file));

  /** Every formatted issue reads `file: field: problem`. */
  function expectFormatted(issues: KnowledgeIssue[]): void {
    for (const i of issues) {
      const line = formatIssue(i);
      expect(line).toMatch(/^[^:]+\.yaml: [^:\s]+: \S.*$/);
      expect(line).toBe(`${i.file}: ${i.field || '(file)'}: ${i.problem}`);
    }
  }

  it('a copy of the real files lints clean', () => {
    expect(lint(copy()).map(formatIssue)).toEqual([]);
  });

  it('reports a missing item file by its name', () => {
    const d = copy();
    unlinkSync(itemFile(d.knowledge, 'invoice'));
    const issues = lint(d);
    const mine = about(issues, join('knowledge', 'items', 'invoice.yaml'));
    expect(mine.map((i) => i.problem)).toContain('catalog item has no guide');
    expect(formatIssue(mine[0]!)).toMatch(/items\/invoice\.yaml: \(file\): catalog item has no guide$/);
    expectFormatted(issues);
  });

  it('reports an example shared by two items, naming the index', () => {
    const d = copy();
    const first = readItem(d.knowledge, 'appointment');
    const last = readItem(d.knowledge, 'water-quality');
    const index = last.examples.length;
    last.examples.push(first.examples[0]!);
    writeItem(d.knowledge, 'water-quality', last);
    const issues = lint(d);
    const dup = about(issues, join('items', 'water-quality.yaml')).find((i) => i.field === `examples.${index}`);
    expect(dup, issues.map(formatIssue).join('\n')).toBeDefined();
    expect(dup!.problem).toContain(first.examples[0]!);
    expect(dup!.problem).toContain('appointment');
    expectFormatted(issues);
  });

  it('reports an example listed twice in one item', () => {
    const d = copy();
    const item = readItem(d.knowledge, 'invoice');
    item.examples.push(`${item.examples[0]!}？`);
    writeItem(d.knowledge, 'invoice', item);
    const issues = about(lint(d), join('items', 'invoice.yaml'));
    expect(issues.map((i) => `${i.field}: ${i.problem}`)).toContain(`examples.${item.examples.length - 1}: "${item.examples.at(-1)}" is listed twice`);
  });

  it('reports a related id that does not exist', () => {
    const d = copy();
    const item = readItem(d.knowledge, 'transfer-ownership');
    const index = item.related.length;
    item.related.push('no-such-item');
    writeItem(d.knowledge, 'transfer-ownership', item);
    const issues = lint(d);
    const bad = about(issues, join('items', 'transfer-ownership.yaml')).find((i) => i.field === `related.${index}`);
    expect(bad, issues.map(formatIssue).join('\n')).toBeDefined();
    expect(bad!.problem).toContain('unknown item');
    expect(bad!.problem).toContain('no-such-item');
    expectFormatted(issues);
  });

  it('reports an empty answer', () => {
    const d = copy();
    const item = readItem(d.knowledge, 'bill-query');
    item.answer = '   ';
    writeItem(d.knowledge, 'bill-query', item);
    const issues = lint(d);
    const bad = about(issues, join('items', 'bill-query.yaml')).find((i) => i.field === 'answer');
    expect(bad, issues.map(formatIssue).join('\n')).toBeDefined();
    expect(bad!.problem).toBe('must not be empty');
    expectFormatted(issues);
  });

  it('reports invalid YAML', () => {
    const d = copy();
    writeFileSync(itemFile(d.knowledge, 'complaint'), 'id: complaint\nexamples: [unclosed\n  - "x\n');
    const issues = lint(d);
    const bad = about(issues, join('items', 'complaint.yaml'));
    expect(bad.some((i) => i.problem.startsWith('not valid YAML')), issues.map(formatIssue).join('\n')).toBe(true);
    expectFormatted(issues);
  });

  it('reports a fact the guide no longer states', () => {
    const d = copy();
    const item = readItem(d.knowledge, 'connect-nonresidential');
    const strip = (s: unknown) => (typeof s === 'string' ? s.replaceAll('2 个自然日', '两天') : s);
    item.answer = strip(item.answer);
    item.facts = (item.facts as string[]).map(strip);
    item.conditions = (item.conditions as string[]).map(strip);
    item.faqs = (item.faqs as { q: string; a: string }[]).map((f) => ({ q: strip(f.q), a: strip(f.a) }));
    (item.timeLimit as { note?: string }).note = '原 3 个工作日';
    (item.timeLimit as { value: number }).value = 3;
    writeItem(d.knowledge, 'connect-nonresidential', item);
    const issues = about(lint(d), join('items', 'connect-nonresidential.yaml'));
    expect(issues.some((i) => i.field === 'facts' && i.problem.includes('2个自然日')), issues.map(formatIssue).join('\n')).toBe(true);
  });

  it('reports a flow that links an unknown item', () => {
    const d = copy();
    const path = join(d.flows, 'demolition.yaml');
    const flow = parse(readFileSync(path, 'utf8')) as { items: string[] };
    flow.items.push('no-such-item');
    writeFileSync(path, stringify(flow));
    const issues = about(lint(d), 'demolition.yaml');
    expect(issues.some((i) => i.field === `items.${flow.items.length - 1}` && i.problem.includes('unknown item'))).toBe(true);
  });

  it('loadKnowledge throws a KnowledgeError naming the file and the field', () => {
    const d = copy();
    const item = readItem(d.knowledge, 'bill-query');
    item.answer = '';
    writeItem(d.knowledge, 'bill-query', item);
    let error: unknown;
    try {
      loadKnowledge(d.knowledge, d.flows);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KnowledgeError);
    const err = error as KnowledgeError;
    expect(err.message).toContain(`${join('items', 'bill-query.yaml')}: answer: must not be empty`);
    expect(err.issues.some((i) => basename(i.file) === 'bill-query.yaml' && i.field === 'answer')).toBe(true);
  });

  it('loadKnowledge names a file with invalid YAML', () => {
    const d = copy();
    writeFileSync(join(d.knowledge, 'synonyms.yaml'), 'groups: [[户号, 用户号]\n');
    expect(() => loadKnowledge(d.knowledge, d.flows)).toThrow(/synonyms\.yaml: \(file\): not valid YAML/);
  });
});
