// The classifier's decisions on a fixed corpus (the fixtures, simple variants of them, and every example and FAQ
// question the knowledge base holds), recorded so that a speed change can be proved to change no decision.
// `npm run nlu:decisions` rewrites test/fixtures/decisions.jsonl; test/nlu/decisions.test.ts compares against it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KnowledgeBase } from '../src/knowledge/index.js';
import type { Classifier, Understanding } from '../src/nlu/index.js';
import { readFixtures } from './fixtures.js';

/** Where the recorded decisions live. */
export const DECISIONS_PATH = 'test/fixtures/decisions.jsonl';

/** The variants every fixture is also classified in (what residents add around a question). */
export const VARIANTS: ((t: string) => string)[] = [(t) => t, (t) => `${t}？`, (t) => `请问${t}`, (t) => `你好，${t}`, (t) => `${t}呢`];

/** The fixtures' texts in every variant, variant by variant. */
export function fixtureVariants(): string[] {
  const fixtures = readFixtures().map((f) => f.text);
  return VARIANTS.flatMap((v) => fixtures.map(v));
}

/** The corpus: fixtures × variants, then the knowledge base's own examples and FAQ questions, de-duplicated. */
export function decisionTexts(kb: KnowledgeBase): string[] {
  const own = [...kb.items.values()].flatMap((i) => [...i.examples, ...i.faqs.map((f) => f.q)]).concat([...kb.flows.values()].flatMap((f) => f.examples));
  return [...new Set([...fixtureVariants(), ...own])];
}

/** What the record keeps of an understanding: every field the dialogue reads, and the fused ranking's top five with scores. */
export function decisionRecord(text: string, u: Understanding): Record<string, unknown> {
  const { ranking = [], candidates, ...rest } = u;
  const top = ranking.slice(0, 5);
  // The candidates are the ranking's first five keys; they are kept only where they are not.
  const same = candidates.length === top.length && candidates.every((k, i) => top[i]!.key === k);
  return { text, ...rest, ...(same ? {} : { candidates }), ranking: top.map((c) => [c.key, c.score, c.coverage]) };
}

/** A version stamp of what the decisions depend on besides the code: the knowledge and the calibration. */
export function decisionsStamp(kb: KnowledgeBase): string {
  const calibration = readFileSync('src/nlu/calibration.json', 'utf8');
  return createHash('sha256').update(kb.hash).update(calibration).update(readFileSync('test/fixtures/questions.jsonl')).digest('hex').slice(0, 16);
}

/** Classifies the corpus. */
export function decide(kb: KnowledgeBase, classifier: Classifier): Record<string, unknown>[] {
  return decisionTexts(kb).map((t) => decisionRecord(t, classifier.classify(t)));
}
