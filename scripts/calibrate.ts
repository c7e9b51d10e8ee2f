// Grid-searches the decision thresholds on the project's own labelled questions
// (test/fixtures/questions.jsonl): best accuracy with confidently-wrong at most 2.5%.
import { readFileSync } from 'node:fs';
import { loadKnowledge } from '../src/knowledge/index.js';
import { createClassifier, type Thresholds } from '../src/nlu/index.js';

const file = process.argv[2] ?? 'test/fixtures/questions.jsonl';
const qs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; expect: string });
const kb = loadKnowledge();
const flowItems = new Map([...kb.flows.values()].map((f) => [f.id, f.items]));

const c = createClassifier(kb);
function score(t: Thresholds) {
  let ok = 0, wrong = 0;
  for (const q of qs) {
    const u = c.classify(q.text, t);
    const [k, v] = q.expect.split(':');
    const good = k === 'item' ? (u.decision === 'answer' && u.itemId === v) || (u.decision === 'flow' && (flowItems.get(u.flowId!) ?? []).includes(v!))
      : k === 'flow' ? u.decision === 'flow' && u.flowId === v
      : k === 'handoff' ? u.decision === 'handoff'
      : k === 'out-of-scope' ? u.decision === 'fallback' || u.decision === 'handoff'
      : u.decision === 'smalltalk';
    if (good) ok++;
    else if (u.decision === 'answer' || u.decision === 'flow') wrong++;
  }
  return { acc: ok / qs.length, wrong: wrong / qs.length };
}

const MAX_WRONG = Number(process.env.MAX_WRONG ?? 0.025);
let best: { t: Thresholds; acc: number; wrong: number } | null = null;
for (const minCoverage of [0.2, 0.3])
  for (const minScore of [4, 8])
    for (const clarifyRatio of [0.75, 0.8, 0.85, 0.9, 0.95])
      for (const flowCueRatio of [0.4, 0.5, 0.6, 0.7])
      for (const multiItemRatio of [0.5, 0.6, 0.7, 0.8, 2]) {
        const t = { minCoverage, minScore, clarifyRatio, flowCueRatio, multiItemRatio };
        const r = score(t);
        if (r.wrong <= MAX_WRONG && (!best || r.acc > best.acc || (r.acc === best.acc && r.wrong < best.wrong))) best = { t, ...r };
      }
console.log(JSON.stringify(best));
