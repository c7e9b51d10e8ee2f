import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { flowSchema, nextStepSchema, questionSchema, type Flow, type Question } from './flow-schema.js';
import type { Item } from './schema.js';

const text = z.string().trim().min(1, 'must not be empty');
const id = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a kebab-case id');

/** The question library shared by the flows and the single-item applications: flows/questions/library.yaml. */
export const librarySchema = z.strictObject({ questions: z.array(questionSchema).min(1) });

/** One item's own short application: flows/items/<item-id>.yaml. Questions may be `use: <library id>` with overrides. */
export const itemApplicationSchema = z.strictObject({
  item: id,
  intro: text.optional(),
  questions: z.array(questionSchema).min(1),
  /** A 一件事 that covers this item and more, offered beside it when it fits. */
  bundle: z.strictObject({ flow: id, text }).optional(),
  nextSteps: z.array(nextStepSchema).default([]),
});
export type ItemApplication = z.infer<typeof itemApplicationSchema>;
/** A 一件事 offered beside an item's own application, and the line that offers it. */
export type ItemBundle = { flow: string; text: string };

/** One problem in one file. */
interface Issue {
  file: string;
  field: string;
  problem: string;
}

/**
 * Replaces `use: <id>` entries (or a bare `<id>`) of a file's `questions` by the library question, with the entry's other fields
 * overriding it ("use: mobile" + its own prompt). Unknown ids are reported and dropped. Runs before validation.
 */
export function resolveUses(data: unknown, library: Map<string, Question>, file: string, issues: Issue[]): unknown {
  if (!data || typeof data !== 'object' || !Array.isArray((data as { questions?: unknown }).questions)) return data;
  const list = (data as { questions: unknown[] }).questions;
  const questions = list.flatMap((entry, i) => {
    // A bare id is short for `use: <id>`.
    const q = typeof entry === 'string' ? { use: entry } : entry;
    if (!q || typeof q !== 'object' || !('use' in q)) return [q];
    const { use, ...overrides } = q as { use: unknown };
    const base = typeof use === 'string' ? library.get(use) : undefined;
    if (!base) {
      issues.push({ file, field: `questions.${i}.use`, problem: `unknown library question "${String(use)}"` });
      return [];
    }
    return [{ ...base, ...overrides }];
  });
  return { ...data, questions };
}

/** The library of shared questions, by id. */
export function readLibrary(flowsDir: string, issues: Issue[]): { library: Map<string, Question>; raw: string } {
  const path = join(flowsDir, 'questions', 'library.yaml');
  const file = relative(process.cwd(), path) || path;
  const library = new Map<string, Question>();
  if (!existsSync(path)) return { library, raw: '' };
  const raw = readFileSync(path, 'utf8');
  const res = librarySchema.safeParse(parseOrReport(raw, file, issues));
  if (!res.success) {
    for (const i of res.error.issues) issues.push({ file, field: i.path.join('.'), problem: i.message });
    return { library, raw };
  }
  for (const q of res.data.questions) {
    if (library.has(q.id)) issues.push({ file, field: 'questions', problem: `duplicate question "${q.id}"` });
    library.set(q.id, q);
  }
  return { library, raw };
}

function parseOrReport(raw: string, file: string, issues: Issue[]): unknown {
  try {
    return parse(raw);
  } catch (e) {
    issues.push({ file, field: '', problem: `not valid YAML: ${(e as Error).message.split('\n')[0]}` });
    return undefined;
  }
}

/** A single item's application as a flow of one route (the item itself), with every default of a flow. */
export function compileItemApplication(app: ItemApplication, item: Item, questions: Question[]): Flow {
  return flowSchema.extend({ examples: z.array(text).default([]) }).parse({
    id: `apply-${item.id}`,
    title: item.title,
    titleEn: item.titleEn,
    aliasesEn: item.aliasesEn,
    summaryEn: item.summaryEn,
    items: [item.id],
    intro: app.intro,
    questions,
    routes: [{ id: item.id, title: item.title, summary: '单独申请，只办这一项。', items: [item.id] }],
    nextSteps: app.nextSteps,
  }) as Flow;
}

/** Loads flows/items/*.yaml: every item's own application, keyed by item id, with every problem reported. */
export function loadItemApplications(flowsDir: string, items: Map<string, Item>, library: Map<string, Question>, issues: Issue[]): { applications: Map<string, Flow>; bundles: Map<string, ItemBundle>; raws: string[] } {
  const dir = join(flowsDir, 'items');
  const applications = new Map<string, Flow>();
  const bundles = new Map<string, ItemBundle>();
  const raws: string[] = [];
  if (!existsSync(dir)) return { applications, bundles, raws };
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
    const path = join(dir, f);
    const file = relative(process.cwd(), path) || path;
    const raw = readFileSync(path, 'utf8');
    raws.push(path, raw);
    const res = itemApplicationSchema.safeParse(resolveUses(parseOrReport(raw, file, issues), library, file, issues));
    if (!res.success) {
      for (const i of res.error.issues) issues.push({ file, field: i.path.join('.'), problem: i.message });
      continue;
    }
    const app = res.data;
    if (app.item !== basename(f, '.yaml')) issues.push({ file, field: 'item', problem: `"${app.item}" must match the file name` });
    const item = items.get(app.item);
    if (!item) {
      issues.push({ file, field: 'item', problem: `unknown item "${app.item}"` });
      continue;
    }
    const { questions } = app;
    const seen = new Set<string>();
    questions.forEach((q, i) => {
      if (seen.has(q.id)) issues.push({ file, field: `questions.${i}`, problem: `duplicate question "${q.id}"` });
      for (const k of Object.keys(q.when ?? {})) if (!seen.has(k)) issues.push({ file, field: `questions.${i}.when.${k}`, problem: 'refers to a question that is not asked before it' });
      if (q.type === 'choice' && !q.options?.length) issues.push({ file, field: `questions.${i}.options`, problem: 'a choice question needs options' });
      seen.add(q.id);
    });
    if (!questions.some((q) => q.type === 'mobile')) issues.push({ file, field: 'questions', problem: 'needs a mobile question (progress lookups are verified by it)' });
    applications.set(item.id, compileItemApplication(app, item, questions));
    if (app.bundle) bundles.set(item.id, app.bundle);
  }
  return { applications, bundles, raws };
}
