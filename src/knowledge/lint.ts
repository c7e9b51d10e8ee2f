import { join } from 'node:path';
import type { Catalog } from './catalog.js';
import { foldText, keyFigures } from './catalog.js';
import type { KnowledgeBase, KnowledgeIssue } from './load.js';
import { readKnowledge } from './load.js';
import type { Item } from './schema.js';

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
  return [...issues, ...coverage(kb, catalog, knowledgeDir, flowsDir), ...duplicates(kb, knowledgeDir, flowsDir), ...facts(kb, catalog, knowledgeDir), ...synonymClashes(kb, knowledgeDir)];
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
