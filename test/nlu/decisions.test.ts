// Proves that a change to the understanding's code changes no decision: every text of the recorded corpus
// (fixtures × variants, the knowledge base's examples and FAQ questions) must be understood exactly as recorded
// in test/fixtures/decisions.jsonl. After a deliberate change run `npm run nlu:decisions` and review the diff.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { decisionRecord, decisionsStamp, decisionTexts, DECISIONS_PATH } from '../../scripts/decisions.js';

const [head, ...lines] = readFileSync(DECISIONS_PATH, 'utf8').split('\n').filter((l) => l.trim());
const recorded = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const stamp = (JSON.parse(head!) as { stamp: string }).stamp;

let kb: KnowledgeBase;
let classifier: Classifier;
beforeAll(() => {
  kb = loadKnowledge();
  classifier = createClassifier(kb);
});

/** Scores may differ in the last bits (a sum in another order); anything else must be equal. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb2 = Object.keys(b).sort();
    return same(ka, kb2) && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

describe('recorded decisions', () => {
  it('were recorded for this knowledge, calibration and fixture set', () => {
    expect(stamp, `${DECISIONS_PATH} is stale: run \`npm run nlu:decisions\` and review the diff`).toBe(decisionsStamp(kb));
    expect(recorded.map((r) => r.text)).toEqual(decisionTexts(kb));
  });

  it('every text is understood exactly as recorded', () => {
    const differ: string[] = [];
    for (const r of recorded) {
      const now = decisionRecord(r.text as string, classifier.classify(r.text as string));
      if (!same(now, r)) differ.push(`${JSON.stringify(r.text)}\n  recorded ${JSON.stringify(r)}\n  now      ${JSON.stringify(now)}`);
    }
    expect(recorded.length).toBeGreaterThan(3000);
    expect(differ.slice(0, 5).join('\n'), `${differ.length} of ${recorded.length} understandings differ`).toBe('');
  }, 120_000);
});
