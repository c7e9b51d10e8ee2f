import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { cachedJson } from '../core/disk-cache.js';
import { parseYaml } from './yaml.js';
import type { z } from 'zod';
import { flowSchema, type Flow } from './flow-schema.js';
import { loadItemApplications, readLibrary, resolveUses, type ItemBundle } from './item-applications.js';
import {
  intentsSchema,
  itemSchema,
  smalltalkSchema,
  synonymsSchema,
  utilitySchema,
  type Intents,
  type Item,
  type Smalltalk,
  type Synonyms,
  type Utility,
} from './schema.js';

/** Everything the assistant knows, loaded from data. */
export interface KnowledgeBase {
  utility: Utility;
  items: Map<string, Item>;
  flows: Map<string, Flow>;
  /** Each item's own short application (flows/items/<item>.yaml), keyed by item id. */
  applications: Map<string, Flow>;
  /** The 一件事 offered beside an item's own application, keyed by item id. */
  bundles: Map<string, ItemBundle>;
  synonyms: Synonyms;
  smalltalk: Smalltalk;
  intents: Intents;
  /** Hash of every loaded file, for caches keyed by content. */
  hash: string;
}

/** One problem in one file: `file: field: problem`. */
export interface KnowledgeIssue {
  file: string;
  field: string;
  problem: string;
}

/** Thrown when the knowledge files are invalid; lists every problem. */
export class KnowledgeError extends Error {
  constructor(readonly issues: KnowledgeIssue[]) {
    super(`invalid knowledge:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'KnowledgeError';
  }
}

/** Formats an issue as `file: field: problem`. */
export function formatIssue(i: KnowledgeIssue): string {
  return `${i.file}: ${i.field || '(file)'}: ${i.problem}`;
}

interface Reader {
  root: string;
  issues: KnowledgeIssue[];
  hash: ReturnType<typeof createHash>;
}

function readYaml(r: Reader, path: string): unknown {
  const file = relative(process.cwd(), path) || path;
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    r.issues.push({ file, field: '', problem: 'file is missing' });
    return undefined;
  }
  r.hash.update(path).update(raw);
  try {
    return parseCached(raw);
  } catch (e) {
    r.issues.push({ file, field: '', problem: `not valid YAML: ${(e as Error).message.split('\n')[0]}` });
    return undefined;
  }
}

/**
 * YAML parsing is most of a start-up, so a file's parse is cached on disk as JSON, keyed by its content
 * (NLU_CACHE_DIR, "off" disables the cache); invalid YAML throws before anything is cached, and is always reported.
 */
function parseCached(raw: string): unknown {
  return cachedJson('yaml', raw, () => parseYaml(raw) as unknown);
}

function validate<T extends z.ZodType>(r: Reader, path: string, schema: T, prepare?: (data: unknown, file: string) => unknown): z.infer<T> | undefined {
  const raw = readYaml(r, path);
  if (raw === undefined) return undefined;
  const data = prepare ? prepare(raw, relative(process.cwd(), path) || path) : raw;
  const res = schema.safeParse(data);
  if (res.success) return res.data;
  const file = relative(process.cwd(), path) || path;
  for (const i of res.error.issues) r.issues.push({ file, field: i.path.join('.'), problem: i.message });
  return undefined;
}

function loadDir<T extends { id: string }>(r: Reader, dir: string, schema: z.ZodType<T>, prepare?: (data: unknown, file: string) => unknown): Map<string, T> {
  const out = new Map<string, T>();
  if (!existsSync(dir)) {
    r.issues.push({ file: relative(process.cwd(), dir), field: '', problem: 'folder is missing' });
    return out;
  }
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const path = join(dir, f);
    const v = validate(r, path, schema, prepare);
    if (!v) continue;
    if (v.id !== basename(f, '.yaml')) {
      r.issues.push({ file: relative(process.cwd(), path), field: 'id', problem: `"${v.id}" must match the file name` });
    }
    out.set(v.id, v);
  }
  return out;
}

/** Loads and validates every knowledge file; throws KnowledgeError listing all problems. */
export function loadKnowledge(knowledgeDir = 'knowledge', flowsDir = 'flows'): KnowledgeBase {
  const { kb, issues } = readKnowledge(knowledgeDir, flowsDir);
  if (issues.length || !kb) throw new KnowledgeError(issues);
  return kb;
}

/** Reads the knowledge files and returns what loaded plus every schema problem. */
export function readKnowledge(knowledgeDir = 'knowledge', flowsDir = 'flows'): { kb?: KnowledgeBase; issues: KnowledgeIssue[] } {
  const r: Reader = { root: knowledgeDir, issues: [], hash: createHash('sha256') };
  const utility = validate(r, join(knowledgeDir, 'utility.yaml'), utilitySchema);
  const synonyms = validate(r, join(knowledgeDir, 'synonyms.yaml'), synonymsSchema);
  const smalltalk = validate(r, join(knowledgeDir, 'smalltalk.yaml'), smalltalkSchema);
  const intents = validate(r, join(knowledgeDir, 'intents.yaml'), intentsSchema);
  const items = loadDir(r, join(knowledgeDir, 'items'), itemSchema as z.ZodType<Item>);
  // Flows and single-item applications may take questions from the shared library (`use: mobile`).
  const { library, raw } = readLibrary(flowsDir, r.issues);
  r.hash.update(raw);
  const flows = loadDir(r, flowsDir, flowSchema as z.ZodType<Flow>, (data, file) => resolveUses(data, library, file, r.issues));
  const { applications, bundles, raws } = loadItemApplications(flowsDir, items, library, r.issues);
  raws.forEach((t) => r.hash.update(t));
  if (!utility || !synonyms || !smalltalk || !intents) return { issues: r.issues };
  const kb = { utility, items, flows, applications, bundles, synonyms, smalltalk, intents, hash: r.hash.digest('hex').slice(0, 16) };
  r.issues.push(...checkReferences(kb, knowledgeDir, flowsDir));
  return { kb, issues: r.issues };
}

/** Cross-file checks: related items and flow items must exist. */
function checkReferences(kb: KnowledgeBase, knowledgeDir: string, flowsDir: string): KnowledgeIssue[] {
  const issues: KnowledgeIssue[] = [];
  for (const item of kb.items.values()) {
    item.related.forEach((id, i) => {
      if (!kb.items.has(id)) issues.push({ file: join(knowledgeDir, 'items', `${item.id}.yaml`), field: `related.${i}`, problem: `unknown item "${id}"` });
    });
  }
  for (const flow of kb.flows.values()) {
    const file = join(flowsDir, `${flow.id}.yaml`);
    const refs: [string, string][] = [
      ...flow.items.map((id, i): [string, string] => [`items.${i}`, id]),
      ...flow.bring.flatMap((b, bi) => b.items.map((id, i): [string, string] => [`bring.${bi}.items.${i}`, id])),
      ...flow.routes.flatMap((r, ri) => r.items.map((id, i): [string, string] => [`routes.${ri}.items.${i}`, id])),
    ];
    for (const [field, id] of refs) if (!kb.items.has(id)) issues.push({ file, field, problem: `unknown item "${id}"` });
    const slots = new Set<string>();
    flow.questions.forEach((s, i) => {
      if (slots.has(s.id)) issues.push({ file, field: `questions.${i}.id`, problem: `duplicate question "${s.id}"` });
      if (s.type === 'choice' && !s.options?.length) issues.push({ file, field: `questions.${i}.options`, problem: 'a choice question needs options' });
      for (const k of Object.keys(s.when ?? {})) if (!slots.has(k)) issues.push({ file, field: `questions.${i}.when.${k}`, problem: 'refers to a question that is not asked before it' });
      slots.add(s.id);
    });
    const conds = [...flow.bring.map((b, i) => [`bring.${i}`, b.when] as const), ...flow.routes.map((r, i) => [`routes.${i}`, r.when] as const), ...flow.nextSteps.map((n, i) => [`nextSteps.${i}`, n.when] as const)];
    for (const [field, when] of conds) for (const k of Object.keys(when ?? {})) if (!slots.has(k)) issues.push({ file, field: `${field}.when.${k}`, problem: `unknown question "${k}"` });
  }
  return issues;
}
