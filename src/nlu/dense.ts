import type { KnowledgeBase } from '../knowledge/index.js';
import type { DenseDoc, ScoredKey } from './embeddings.js';
import type { Candidate, TargetKey } from './retriever.js';

/** How much a perfect dense match adds, as a share of the best lexical score. */
const DENSE_WEIGHT = 0.5;

/** One document per item and flow for dense retrieval: title, aliases and examples. */
export function denseDocs(kb: KnowledgeBase): DenseDoc[] {
  return [
    ...[...kb.items.values()].map((i) => ({ key: `item:${i.id}`, text: [i.title, ...i.aliases, ...i.examples].join('；') })),
    ...[...kb.flows.values()].map((f) => ({ key: `flow:${f.id}`, text: [f.title, ...f.examples].join('；') })),
  ];
}

/** Fuses a dense ranking into the lexical one: each dense hit adds a share of the top lexical score, by its similarity relative to the best. */
export function fuseDense(ranked: Candidate[], dense: ScoredKey[]): Candidate[] {
  if (!dense.length || !ranked.length) return ranked;
  const top = ranked[0]!.score;
  const best = Math.max(dense[0]!.score, 1e-6);
  const byKey = new Map(ranked.map((c) => [c.key, { ...c }]));
  for (const d of dense) {
    const add = DENSE_WEIGHT * top * Math.max(0, d.score / best);
    const key = d.key as TargetKey;
    const c = byKey.get(key);
    if (c) c.score += add;
    else byKey.set(key, { key, score: add, coverage: 0 });
  }
  return [...byKey.values()].sort((a, b) => b.score - a.score);
}
