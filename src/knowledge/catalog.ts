import { readFileSync } from 'node:fs';
import { parseYaml } from './yaml.js';
import { z } from 'zod';

const catalogSchema = z.object({
  utility: z.object({ name: z.string(), hotline: z.string(), facts: z.array(z.string()).default([]) }),
  items: z.array(z.object({ id: z.string(), category: z.string(), title: z.string(), aliases: z.array(z.string()).default([]), facts: z.array(z.string()).default([]) })),
  flows: z.array(z.object({ id: z.string(), title: z.string(), items: z.array(z.string()) })),
});
/** The contract the knowledge base must cover: item ids, flow ids and facts. */
export type Catalog = z.infer<typeof catalogSchema>;

/** Reads the catalog contract (knowledge/catalog.yaml, a copy of the shared one). */
export function loadCatalog(path = 'knowledge/catalog.yaml'): Catalog {
  return catalogSchema.parse(parseYaml(readFileSync(path, 'utf8')));
}

/** The figures and quoted terms in a fact that a guide must repeat exactly (2 个自然日, DN100, “五零”…). */
export function keyFigures(fact: string): string[] {
  const out = new Set<string>();
  for (const m of fact.matchAll(/DN\s?\d+|\d+(?:\.\d+)?\s*(?:%|个自然日|个工作日|项|万元|余户|座|年|月|日)?|“[^”]{1,12}”|"[^"]{1,12}"/g)) {
    out.add(m[0].replace(/\s+/g, '').replace(/^"|"$/g, '').replace(/^“|”$/g, ''));
  }
  return [...out].filter((f) => f.length > 0);
}

/** Folds spaces and quote styles so that figures compare as text. */
export function foldText(s: string): string {
  return s.replace(/\s+/g, '').replace(/[“”"「」]/g, '').replace(/mm/gi, '');
}
