import { join } from 'node:path';
import type { Catalog } from './catalog.js';
import { foldText, keyFigures } from './catalog.js';
import type { KnowledgeBase, KnowledgeIssue } from './load.js';
import { readKnowledge } from './load.js';
import type { Flow } from './flow-schema.js';
import type { Item, Unverified, Utility } from './schema.js';

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
  return [
    ...issues, ...coverage(kb, catalog, knowledgeDir, flowsDir), ...duplicates(kb, knowledgeDir, flowsDir), ...facts(kb, catalog, knowledgeDir),
    ...synonymClashes(kb, knowledgeDir), ...markings(kb, knowledgeDir), ...unverifiedIssues(kb, knowledgeDir, flowsDir), ...shownWords(kb, knowledgeDir, flowsDir),
    ...plainFigures(kb, catalog, knowledgeDir, flowsDir), ...askedSlots(kb, knowledgeDir), ...english(kb, knowledgeDir, flowsDir),
  ];
}

/** A material condition or a scheduled day names an answer: it must be a question some application asks (a typo would read as "never"). */
function askedSlots(kb: KnowledgeBase, knowledgeDir: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  const asked = new Set([...kb.flows.values(), ...kb.applications.values()].flatMap((f) => f.questions.map((q) => q.id)));
  const applied = new Set([...kb.flows.values(), ...kb.applications.values()].flatMap((f) => f.items));
  // Guides nobody applies for through the assistant keep conditions for the hall to read.
  for (const item of [...kb.items.values()].filter((i) => applied.has(i.id))) {
    const file = join(knowledgeDir, 'items', `${item.id}.yaml`);
    const check = (field: string, slot: string) => {
      if (!asked.has(slot)) issues.push({ file, field, problem: `"${slot}" is not a question of any flow or item application` });
    };
    item.materials.forEach((m, i) => {
      for (const k of Object.keys(m.when ?? {})) check(`materials.${i}.when.${k}`, k);
      for (const k of Object.keys(m.unless ?? {})) check(`materials.${i}.unless.${k}`, k);
    });
    item.timeLimit.scheduledBy.forEach((slot, i) => check(`timeLimit.scheduledBy.${i}`, slot));
  }
  return issues;
}

/** A time, money or quantity figure (not a 4-digit year): "3 个工作日", "2 小时", "60 元", "5 人". */
const FIGURE = /(?<![\d.])\d{1,3}(?:\.\d+)?\s*(?:个工作日|个自然日|小时|分钟|元|个月|年|日内|天|立方米|人|%)/g;

const applicationFile = (flowsDir: string, itemId: string) => join(flowsDir, 'items', `${itemId}.yaml`);

/** The texts of an item's own application a user can be shown, the 一件事 offered beside it included. */
function applicationFields(kb: KnowledgeBase, itemId: string, app: Flow): { field: string; text: string }[] {
  const bundle = kb.bundles.get(itemId);
  return [...shownFlowFields(app).filter((f) => !/^(title|routes)\./.test(f.field) && f.field !== 'title'), ...(bundle ? [{ field: 'bundle.text', text: bundle.text }] : [])];
}

/** The 参考 figures stated in these texts. */
function wrappedIn(fields: { field: string; text: string }[]): { field: string; text: string }[] {
  return fields.flatMap((f) => [...f.text.matchAll(WRAPPED)].map((m) => ({ field: f.field, text: m[1]! })));
}

/** The flow texts a user can be shown (its dead `commitment` text, ids and conditions left out). */
export function shownFlowFields(flow: Flow): { field: string; text: string }[] {
  const { id: _i, examples: _e, keywords: _k, items: _it, commitment: _c, unverified: _u, ...rest } = flow;
  return textFields(rest).filter((f) => !/(^|\.)(id|value|when|items|type)(\.|$)|\.aliases\./.test(f.field));
}

/** Figures stated plainly must come from the source (catalog facts, utility.sourceFigures); others are 参考. */
function plainFigures(kb: KnowledgeBase, catalog: Catalog, knowledgeDir: string, flowsDir: string): KnowledgeIssue[] {
  // A figure from a catalog fact is known only for the guide (or the flows of the guides) that fact is about.
  const source = kb.utility.sourceFigures.map((f) => foldText(f.text));
  const figures = (facts: string[]) => new Set([...facts.flatMap((f) => keyFigures(f)).map(foldText), ...source]);
  const general = catalog.utility.facts;
  const factsOf = (ids: string[]) => [...general, ...catalog.items.filter((c) => ids.includes(c.id)).flatMap((c) => c.facts)];
  const issues: KnowledgeIssue[] = [];
  const scan = (file: string, fields: { field: string; text: string }[], known: Set<string>) => {
    for (const f of fields)
      for (const m of f.text.replace(WRAPPED, '').matchAll(FIGURE))
        if (!known.has(foldText(m[0]))) issues.push({ file, field: f.field, problem: `states "${m[0]}" plainly, but the source does not give it: write "参考：…，以受理时答复为准" and list it under unverified` });
  };
  for (const item of kb.items.values()) {
    const skip = item.timeLimit.unverified ? new Set(['timeLimit.note']) : new Set<string>();
    scan(join(knowledgeDir, 'items', `${item.id}.yaml`), shownFields(item).filter((f) => !skip.has(f.field)), figures(factsOf([item.id])));
  }
  scan(join(knowledgeDir, 'utility.yaml'), shownUtilityFields(kb.utility), figures(general));
  for (const flow of kb.flows.values()) scan(join(flowsDir, `${flow.id}.yaml`), shownFlowFields(flow), figures(factsOf(flow.items)));
  for (const [id, app] of kb.applications) scan(applicationFile(flowsDir, id), applicationFields(kb, id, app), figures(factsOf(app.items)));
  return issues;
}

/** The word that marks sample data for the utility; it is never shown to a user. */
export const SAMPLE_WORD = '示例';
/** How a figure the source does not give is stated: "参考：<figure>，以受理时答复为准". */
export const UNVERIFIED_OPEN = '参考：';
export const UNVERIFIED_CLOSE = '以受理时答复为准';
const WRAPPED = /参考：([^。；\n]*?)，以受理时答复为准/g;

/** Every text string under `value`, with its dotted path. */
function textFields(value: unknown, path = ''): { field: string; text: string }[] {
  if (typeof value === 'string') return [{ field: path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => textFields(v, path ? `${path}.${i}` : String(i)));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => textFields(v, path ? `${path}.${k}` : k));
  return [];
}

/** The parts of a guide a user can be shown (not ids, examples, internal notes or the unverified list). */
export function shownFields(item: Item): { field: string; text: string }[] {
  const { id: _i, category: _c, examples: _e, keywords: _k, related: _r, unverified: _u, commitment, deferral: _d, policies, materials, ...rest } = item;
  return [
    ...textFields(rest),
    ...materials.flatMap((m, i) => [{ field: `materials.${i}.name`, text: m.name }, ...(m.note ? [{ field: `materials.${i}.note`, text: m.note }] : [])]),
    ...(commitment ? textFields({ promise: commitment.promise, breach: commitment.breach }, 'commitment') : []),
    ...policies.map((p, i) => ({ field: `policies.${i}.name`, text: p.name })),
  ];
}

/** The utility texts a user can be shown. */
export function shownUtilityFields(u: Utility): { field: string; text: string }[] {
  const { halls, unverified: _u, sourceFigures: _s, accountNumber, ...rest } = u;
  return [
    ...textFields(rest),
    ...textFields({ description: accountNumber.description, example: accountNumber.example }, 'accountNumber'),
    ...halls.map((h, i) => textFields({ name: h.name, district: h.district, address: h.address, hours: h.hours }, `halls.${i}`)).flat(),
  ];
}

/** One figure the source does not give, for the utility to confirm: file, field and text. */
export interface UnverifiedFigure {
  file: string;
  field: string;
  text: string;
}

/** Every figure marked unverified in the knowledge base, for `kb lint --unverified`. */
export function unverifiedFigures(kb: KnowledgeBase, knowledgeDir = 'knowledge', flowsDir = 'flows'): UnverifiedFigure[] {
  const out: UnverifiedFigure[] = [];
  for (const item of kb.items.values()) {
    const file = join(knowledgeDir, 'items', `${item.id}.yaml`);
    const t = item.timeLimit;
    if (t.unverified) out.push({ file, field: 'timeLimit', text: `${t.value} 个${t.unit}${t.note ? `（${t.note}）` : ''}` });
    for (const u of item.unverified) out.push({ file, field: u.field, text: u.text });
  }
  for (const flow of kb.flows.values()) for (const u of flow.unverified) out.push({ file: join(flowsDir, `${flow.id}.yaml`), field: u.field, text: u.text });
  // An item's own application has no list of its own: its 参考 figures are read from its texts.
  for (const [id, app] of kb.applications) for (const u of wrappedIn(applicationFields(kb, id, app))) out.push({ file: applicationFile(flowsDir, id), ...u });
  const ufile = join(knowledgeDir, 'utility.yaml');
  if (kb.utility.commitment.unverified) out.push({ file: ufile, field: 'commitment.days', text: `告知承诺补齐期限 ${kb.utility.commitment.days} 天` });
  for (const u of kb.utility.unverified) out.push({ file: ufile, field: u.field, text: u.text });
  return out;
}

/** The wrapped figures and the unverified list must agree, field by field. */
function checkUnverified(fields: { field: string; text: string }[], listed: Unverified[], file: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  const byField = new Map(fields.map((f) => [f.field, f.text]));
  listed.forEach((u, i) => {
    const text = byField.get(u.field);
    if (text === undefined) issues.push({ file, field: `unverified.${i}.field`, problem: `no text field "${u.field}"` });
    else if (![...text.matchAll(WRAPPED)].some((m) => m[1] === u.text)) issues.push({ file, field: `unverified.${i}.text`, problem: `"${u.text}" must appear in ${u.field} as "参考：${u.text}，以受理时答复为准"` });
  });
  for (const f of fields)
    for (const m of f.text.matchAll(WRAPPED))
      if (!listed.some((u) => u.field === f.field && u.text === m[1])) issues.push({ file, field: f.field, problem: `"${m[1]}" is stated as unverified but not listed under unverified` });
  return issues;
}

function unverifiedIssues(kb: KnowledgeBase, knowledgeDir: string, flowsDir: string): KnowledgeIssue[] {
  const issues = [...kb.items.values()].flatMap((item) => checkUnverified(shownFields(item), item.unverified, join(knowledgeDir, 'items', `${item.id}.yaml`)));
  const flows = [...kb.flows.values()].flatMap((flow) => checkUnverified(shownFlowFields(flow), flow.unverified, join(flowsDir, `${flow.id}.yaml`)));
  return [...issues, ...flows, ...checkUnverified(shownUtilityFields(kb.utility), kb.utility.unverified, join(knowledgeDir, 'utility.yaml'))];
}

/** 可容缺 and 告知承诺 only where the item is marked, and no more items marked than the source counts. */
function markings(kb: KnowledgeBase, knowledgeDir: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  const { commitmentItems, deferralItems } = kb.utility.reform;
  for (const item of kb.items.values()) {
    const file = join(knowledgeDir, 'items', `${item.id}.yaml`);
    item.materials.forEach((m, i) => {
      if (m.requirement === '可容缺' && !item.deferral) issues.push({ file, field: `materials.${i}.requirement`, problem: '可容缺 needs the item marked `deferral` (容缺办理)' });
      if (m.commitment && !item.commitment) issues.push({ file, field: `materials.${i}.commitment`, problem: 'needs the item marked `commitment` (告知承诺马上办)' });
      m.unlessWith.forEach((id, j) => {
        if (!kb.items.has(id)) issues.push({ file, field: `materials.${i}.unlessWith.${j}`, problem: `unknown item "${id}"` });
      });
      if ((m.when || m.unless || m.unlessWith.length) && !m.note) issues.push({ file, field: `materials.${i}.note`, problem: 'a conditional material needs a note saying when it is needed' });
      const dup = item.materials.findIndex((o) => o.id === m.id);
      if (dup !== i) issues.push({ file, field: `materials.${i}.id`, problem: `"${m.id}" is also materials.${dup}` });
    });
    item.policies.forEach((p, i) => {
      if (p.validUntil && p.validUntil < p.validFrom) issues.push({ file, field: `policies.${i}.validUntil`, problem: 'is before validFrom' });
    });
  }
  const marked = (k: 'commitment' | 'deferral') => [...kb.items.values()].filter((i) => i[k]).map((i) => i.id);
  const file = join(knowledgeDir, 'utility.yaml');
  if (marked('commitment').length > commitmentItems) issues.push({ file, field: 'reform.commitmentItems', problem: `${marked('commitment').length} guides are marked 告知承诺, the source counts ${commitmentItems}` });
  if (marked('deferral').length > deferralItems) issues.push({ file, field: 'reform.deferralItems', problem: `${marked('deferral').length} guides are marked 容缺, the source counts ${deferralItems}` });
  return issues;
}

/** No user-visible text says "示例". */
function shownWords(kb: KnowledgeBase, knowledgeDir: string, flowsDir: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  const scan = (file: string, fields: { field: string; text: string }[]) => {
    for (const f of fields) if (f.text.includes(SAMPLE_WORD)) issues.push({ file, field: f.field, problem: `shows "${SAMPLE_WORD}" to users: mark sample data with \`sample: true\` instead` });
  };
  for (const item of kb.items.values()) scan(join(knowledgeDir, 'items', `${item.id}.yaml`), shownFields(item));
  scan(join(knowledgeDir, 'utility.yaml'), shownUtilityFields(kb.utility));
  for (const flow of kb.flows.values()) scan(join(flowsDir, `${flow.id}.yaml`), shownFlowFields(flow));
  for (const [id, app] of kb.applications) scan(applicationFile(flowsDir, id), applicationFields(kb, id, app));
  return issues;
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
    if (sampleFigures && /\d/.test(en.summaryEn) && !/for reference/i.test(en.summaryEn)) issues.push({ file, field: 'summaryEn', problem: 'the guide marks figures as samples (示例/参考): an English figure must say "for reference" rather than state it as fact' });
  };
  for (const item of kb.items.values()) check(item.id, join(knowledgeDir, 'items', `${item.id}.yaml`), item, SAMPLE_MARK.test(guideText(item)));
  for (const flow of kb.flows.values()) check(`flow ${flow.id}`, join(flowsDir, `${flow.id}.yaml`), flow, false);
  return issues;
}
