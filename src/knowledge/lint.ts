import { join } from 'node:path';
import type { Catalog } from './catalog.js';
import { foldText, keyFigures } from './catalog.js';
import type { KnowledgeBase, KnowledgeIssue } from './load.js';
import { readKnowledge } from './load.js';
import type { Flow } from './flow-schema.js';
import type { Item } from './schema.js';

/** Longest English summary, in characters: one short paragraph. */
export const SUMMARY_EN_MAX = 600;
const ALIASES_EN = { min: 3, max: 6 };
// Han characters, CJK punctuation and full-width forms do not belong in English text.
const NOT_ENGLISH = /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u;
// The Chinese guide marks sample figures this way; the English must not state them as fact.
const SAMPLE_MARK = /示例|参考/;

/** All text of a guide, for fact checks. */
export function guideText(item: Item): string {
  return [
    item.title, item.answer, ...item.conditions, ...item.steps, item.fees, item.timeLimit.note ?? '',
    `${item.timeLimit.value} 个${item.timeLimit.unit}`, ...item.facts, ...item.faqs.flatMap((f) => [f.q, f.a]),
    ...item.materials.map((m) => `${m.name} ${m.note ?? ''}`), item.materialsNote ?? '',
  ].join('\n');
}

/** Checks the knowledge base against the catalog and itself; returns every problem found. */
export function lintKnowledge(knowledgeDir: string, flowsDir: string, catalog: Catalog): KnowledgeIssue[] {
  const { kb, issues } = readKnowledge(knowledgeDir, flowsDir);
  if (!kb) return issues;
  return [...issues, ...coverage(kb, catalog, knowledgeDir, flowsDir), ...duplicates(kb, knowledgeDir, flowsDir), ...facts(kb, catalog, knowledgeDir), ...synonymClashes(kb, knowledgeDir), ...english(kb, knowledgeDir, flowsDir)];
}

function coverage(kb: KnowledgeBase, catalog: Catalog, knowledgeDir: string, flowsDir: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  const itemIds = new Set(catalog.items.map((i) => i.id));
  const flowIds = new Set(catalog.flows.map((f) => f.id));
  for (const id of itemIds) if (!kb.items.has(id)) issues.push({ file: join(knowledgeDir, 'items', `${id}.yaml`), field: '', problem: 'catalog item has no guide' });
  for (const id of kb.items.keys()) if (!itemIds.has(id)) issues.push({ file: join(knowledgeDir, 'items', `${id}.yaml`), field: 'id', problem: 'not in the catalog' });
  for (const id of flowIds) if (!kb.flows.has(id)) issues.push({ file: join(flowsDir, `${id}.yaml`), field: '', problem: 'catalog flow has no file' });
  for (const id of kb.flows.keys()) if (!flowIds.has(id)) issues.push({ file: join(flowsDir, `${id}.yaml`), field: 'id', problem: 'not in the catalog' });
  for (const c of catalog.items) {
    const item = kb.items.get(c.id);
    if (item && item.title !== c.title) issues.push({ file: join(knowledgeDir, 'items', `${c.id}.yaml`), field: 'title', problem: `must be the catalog title "${c.title}"` });
    if (item && item.category !== c.category) issues.push({ file: join(knowledgeDir, 'items', `${c.id}.yaml`), field: 'category', problem: `must be "${c.category}"` });
  }
  for (const c of catalog.flows) {
    const flow = kb.flows.get(c.id);
    if (!flow) continue;
    const want = [...c.items].sort().join(',');
    if ([...flow.items].sort().join(',') !== want) issues.push({ file: join(flowsDir, `${c.id}.yaml`), field: 'items', problem: `must be the catalog items [${c.items.join(', ')}]` });
  }
  return issues;
}

function duplicates(kb: KnowledgeBase, knowledgeDir: string, flowsDir: string): KnowledgeIssue[] {
  const seen = new Map<string, string>();
  const issues: KnowledgeIssue[] = [];
  const check = (owner: string, file: string, examples: string[]) =>
    examples.forEach((ex, i) => {
      const key = foldText(ex).replace(/[，。？！,.?!、]/g, '');
      const prev = seen.get(key);
      if (prev && prev !== owner) issues.push({ file, field: `examples.${i}`, problem: `"${ex}" is also an example of ${prev}` });
      else if (prev === owner) issues.push({ file, field: `examples.${i}`, problem: `"${ex}" is listed twice` });
      seen.set(key, owner);
    });
  for (const item of kb.items.values()) check(item.id, join(knowledgeDir, 'items', `${item.id}.yaml`), item.examples);
  for (const flow of kb.flows.values()) check(`flow ${flow.id}`, join(flowsDir, `${flow.id}.yaml`), flow.examples);
  return issues;
}

function facts(kb: KnowledgeBase, catalog: Catalog, knowledgeDir: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  for (const c of catalog.items) {
    const item = kb.items.get(c.id);
    if (!item) continue;
    const text = foldText(guideText(item));
    for (const fact of c.facts) {
      const missing = keyFigures(fact).filter((f) => !text.includes(foldText(f)));
      if (missing.length) issues.push({ file: join(knowledgeDir, 'items', `${c.id}.yaml`), field: 'facts', problem: `does not state "${missing.join('", "')}" of the catalog fact: ${fact}` });
    }
  }
  const utilityText = foldText([...kb.utility.facts, ...kb.utility.channels.map((c) => c.description), kb.utility.hallHours].join('\n'));
  for (const fact of catalog.utility.facts) {
    const missing = keyFigures(fact).filter((f) => !utilityText.includes(foldText(f)));
    if (missing.length) issues.push({ file: join(knowledgeDir, 'utility.yaml'), field: 'facts', problem: `does not state "${missing.join('", "')}" of: ${fact}` });
  }
  if (kb.utility.hotline !== catalog.utility.hotline) issues.push({ file: join(knowledgeDir, 'utility.yaml'), field: 'hotline', problem: `must be ${catalog.utility.hotline}` });
  return issues;
}

function synonymClashes(kb: KnowledgeBase, knowledgeDir: string): KnowledgeIssue[] {
  const owner = new Map<string, number>();
  const issues: KnowledgeIssue[] = [];
  kb.synonyms.groups.forEach((g, gi) =>
    g.forEach((w, wi) => {
      const prev = owner.get(w);
      if (prev !== undefined && prev !== gi) issues.push({ file: join(knowledgeDir, 'synonyms.yaml'), field: `groups.${gi}.${wi}`, problem: `"${w}" is already in group ${prev}` });
      owner.set(w, gi);
    }),
  );
  return issues;
}

/** The English fields: present, short, English only, and careful with sample figures. */
function english(kb: KnowledgeBase, knowledgeDir: string, flowsDir: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  const owners = new Map<string, string>();
  const check = (owner: string, file: string, en: Pick<Item | Flow, 'titleEn' | 'aliasesEn' | 'summaryEn'>, sampleFigures: boolean) => {
    const fields: [string, string][] = [['titleEn', en.titleEn], ...en.aliasesEn.map((a, i): [string, string] => [`aliasesEn.${i}`, a]), ['summaryEn', en.summaryEn]];
    for (const [field, value] of fields) {
      if (!value.trim()) issues.push({ file, field, problem: 'must not be empty' });
      const bad = NOT_ENGLISH.exec(value);
      if (bad) issues.push({ file, field, problem: `must be English only, found "${bad[0]}"` });
    }
    if (en.aliasesEn.length < ALIASES_EN.min || en.aliasesEn.length > ALIASES_EN.max) issues.push({ file, field: 'aliasesEn', problem: `needs ${ALIASES_EN.min}–${ALIASES_EN.max} phrasings, has ${en.aliasesEn.length}` });
    en.aliasesEn.forEach((a, i) => {
      const key = a.trim().toLowerCase();
      const prev = owners.get(key);
      if (prev) issues.push({ file, field: `aliasesEn.${i}`, problem: prev === owner ? `"${a}" is listed twice` : `"${a}" is also an English alias of ${prev}` });
      owners.set(key, owner);
    });
    if ([...en.summaryEn].length > SUMMARY_EN_MAX) issues.push({ file, field: 'summaryEn', problem: `must be at most ${SUMMARY_EN_MAX} characters, has ${[...en.summaryEn].length}` });
    if (sampleFigures && !/for reference/i.test(en.summaryEn)) issues.push({ file, field: 'summaryEn', problem: 'the guide marks figures as samples (示例/参考): say "for reference" rather than stating them as fact' });
  };
  for (const item of kb.items.values()) check(item.id, join(knowledgeDir, 'items', `${item.id}.yaml`), item, SAMPLE_MARK.test(guideText(item)));
  for (const flow of kb.flows.values()) check(`flow ${flow.id}`, join(flowsDir, `${flow.id}.yaml`), flow, false);
  return issues;
}
