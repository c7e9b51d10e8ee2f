// Fits the calibrated confidence on the fixtures' calib split only (the frozen split is never read here):
// the fusion weight of the linear classifier, the logistic weights over the ranking's evidence, and the
// answer / clarify points (best accuracy with confidently wrong ≤ MAX_WRONG). Writes src/nlu/calibration.json.
//   npm run -s calibrate            (or: npx tsx scripts/calibrate.ts [--dry-run])
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadKnowledge } from '../src/knowledge/index.js';
import { createClassifier, DEFAULT_THRESHOLDS, evidenceVector, fitLogistic, loadCalibration, type Calibration } from '../src/nlu/index.js';
import { readFixtures, score } from './fixtures.js';

const MAX_WRONG = Number(process.env.MAX_WRONG ?? 0.02);
const kb = loadKnowledge();
const calib = readFixtures().filter((f) => f.split === 'calib');
const base = loadCalibration();

/** Whether a ranking's top serves the label (an item inside a flow counts, as the scorer counts it). */
const topServes = (expect: string, top: string | null) =>
  !!top && (top === expect || (expect.startsWith('item:') && top.startsWith('flow:') && (kb.flows.get(top.slice(5))?.items ?? []).includes(expect.slice(5))));

function fitFor(linearWeight: number) {
  const cal: Calibration = { ...base, linearWeight };
  const c = createClassifier(kb, undefined, cal);
  const rows: { x: number[]; y: number }[] = [];
  for (const f of calib) {
    const u = c.classify(f.text);
    // Only messages that reach the ranking decide the confidence (smalltalk, hand-off and scope come first).
    if (!['answer', 'clarify', 'flow', 'fallback'].includes(u.decision) || u.scopeTopic) continue;
    const e = c.evidence(f.text);
    if (!e) continue;
    rows.push({ x: evidenceVector(e.evidence), y: topServes(f.expect, e.top) ? 1 : 0 });
  }
  const weights = fitLogistic(rows);
  let best: { cal: Calibration; acc: number; wrong: number; clarify: number } | null = null;
  for (const answerAt of [0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
    for (const clarifyAt of [0.05, 0.15]) {
      if (clarifyAt >= answerAt) continue;
      const trial: Calibration = { linearWeight, weights, answerAt, clarifyAt };
      const ct = createClassifierCached(trial);
      const s = score(kb, calib.map((f) => ({ expect: f.expect, u: ct.classify(f.text) })));
      const better = !best || s.accuracy > best.acc || (s.accuracy === best.acc && s.confidentlyWrong < best.wrong);
      if (s.confidentlyWrong <= MAX_WRONG && better) best = { cal: trial, acc: s.accuracy, wrong: s.confidentlyWrong, clarify: s.clarify };
    }
  return { rows: rows.length, best };
}

// Thresholds change only the decision, not the ranking: one classifier per weight set, re-used across points.
const cache = new Map<string, ReturnType<typeof createClassifier>>();
function createClassifierCached(cal: Calibration) {
  const key = JSON.stringify([cal.linearWeight, cal.weights]);
  let c = cache.get(key);
  if (!c) {
    cache.clear();
    cache.set(key, (c = createClassifier(kb, undefined, cal)));
  }
  return { classify: (t: string) => c!.classify(t, { ...DEFAULT_THRESHOLDS, answerAt: cal.answerAt, clarifyAt: cal.clarifyAt }) };
}

let overall: { cal: Calibration; acc: number; wrong: number; clarify: number } | null = null;
for (const w of [0.3, 0.5]) {
  const { rows, best } = fitFor(w);
  console.log(`linear weight ${w}: ${rows} ranked messages; best ${best ? `accuracy ${(100 * best.acc).toFixed(1)}%, wrong ${(100 * best.wrong).toFixed(1)}%, clarify ${(100 * best.clarify).toFixed(1)}% at answer ${best.cal.answerAt} / clarify ${best.cal.clarifyAt}` : 'none under the wrong limit'}`);
  if (best && (!overall || best.acc > overall.acc || (best.acc === overall.acc && best.wrong < overall.wrong))) overall = best;
}
if (!overall) {
  console.error(`no setting keeps confidently wrong ≤ ${MAX_WRONG}; calibration.json left as it is`);
  process.exit(1);
}
const out: Calibration = { ...overall.cal, weights: overall.cal.weights.map((x) => Math.round(x * 1e4) / 1e4), fittedOn: `test/fixtures/questions.jsonl calib split (${calib.length} messages)` };
console.log(JSON.stringify(out));
if (!process.argv.includes('--dry-run')) {
  writeFileSync(fileURLToPath(new URL('../src/nlu/calibration.json', import.meta.url)), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote src/nlu/calibration.json');
}
