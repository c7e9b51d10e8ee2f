// Fits the calibrated confidence on the fixtures' calib split only (the frozen split is never read here):
// the fusion weight of the linear classifier, the logistic weights over the ranking's evidence, and the
// answer / clarify / margin points. The points maximise accuracy − WRONG_COST × confidently wrong with
// confidently wrong ≤ MAX_WRONG; `--cv` first reports a 5-fold cross-validation of that whole procedure
// inside the calib split, the honest estimate of how it generalises. Writes src/nlu/calibration.json.
//   npm run -s calibrate            (or: npx tsx scripts/calibrate.ts [--dry-run] [--cv])
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadKnowledge } from '../src/knowledge/index.js';
import { rivalMargin } from '../src/nlu/decide.js';
import { confidenceOf, createClassifier, DEFAULT_THRESHOLDS, EVIDENCE, evidenceVector, fitLogistic, loadCalibration, supported, UNSUPPORTED, type Calibration, type Evidence, type Understanding } from '../src/nlu/index.js';
import { isCorrect, readFixtures } from './fixtures.js';

const MAX_WRONG = Number(process.env.MAX_WRONG ?? 0.02);
/** A confidently wrong answer costs this many right ones: worse for a resident than one more click. */
const WRONG_COST = Number(process.env.WRONG_COST ?? 4);
/** L2 penalty of the logistic fit (on standardised evidence). */
const L2 = 0.01;
const ANSWER_AT = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
const CLARIFY_AT = [0.05, 0.15];
/** Margins over the best rival that is another service at which the top is answered below the answer point (Infinity: never). */
const MARGINS = [0.2, 0.3, 0.4, 0.5, Infinity];

const kb = loadKnowledge();
const calib = readFixtures().filter((f) => f.split === 'calib');
const base = loadCalibration();
const flowItems = (id: string) => kb.flows.get(id)?.items ?? [];

/** Whether a ranking's top serves the label (an item inside a flow counts, as the scorer counts it). */
const topServes = (expect: string, top: string | null) =>
  !!top && (top === expect || (expect.startsWith('item:') && top.startsWith('flow:') && flowItems(top.slice(5)).includes(expect.slice(5))));

type Path = 'answer' | 'clarify' | 'fallback';
/** One message, with the outcome of each decision path (the points only choose the path, never the ranking). */
interface Row {
  x: number[] | null;
  y: number;
  ranked: boolean;
  margin: number;
  terse: boolean;
  /** Something besides a weak lexical match supports the top (confidence.ts supported). */
  support: boolean;
  outcome: Record<Path, { right: boolean; wrong: boolean }>;
  fold: number;
}

/** Classifies every calib message once per path: answer path (every point at −1), clarify path, fallback path. */
function rowsFor(linearWeight: number): Row[] {
  const c = createClassifier(kb, undefined, { ...base, linearWeight });
  const at = (answerAt: number, clarifyAt: number) => ({ ...DEFAULT_THRESHOLDS, answerAt, clarifyAt, marginAt: Infinity });
  const judge = (expect: string, u: Understanding) => {
    const right = isCorrect(kb, expect, u);
    return { right, wrong: !right && (u.decision === 'answer' || u.decision === 'flow') };
  };
  return calib.map((f) => {
    const a = c.classify(f.text, at(-1, -1));
    const e = c.evidence(f.text);
    return {
      x: e ? evidenceVector(e.evidence) : null,
      y: e && topServes(f.expect, e.top) ? 1 : 0,
      // Only messages that reach the ranking decide the confidence (smalltalk, hand-off and scope come first).
      ranked: !!e && ['answer', 'clarify', 'flow', 'fallback'].includes(a.decision) && !a.scopeTopic,
      margin: a.ranking ? rivalMargin(a.ranking, flowItems) : 0,
      terse: new Set(f.text.replace(/\s/g, '')).size <= 2 && !e?.evidence.named,
      support: !e || supported(e.evidence),
      outcome: { answer: judge(f.expect, a), clarify: judge(f.expect, c.classify(f.text, at(2, -1))), fallback: judge(f.expect, c.classify(f.text, at(2, 2))) },
      fold: createHash('sha1').update(`cv:${f.id}`).digest()[0]! % 5,
    };
  });
}

interface Points {
  answerAt: number;
  clarifyAt: number;
  marginAt: number;
}

/** Accuracy and confidently wrong of rows under weights and points. */
function evaluate(rows: Row[], weights: number[], p: Points): { acc: number; wrong: number; clarify: number } {
  let right = 0, wrong = 0, clarify = 0;
  for (const r of rows) {
    let conf = r.x ? confidenceOf(Object.fromEntries(EVIDENCE.map((k, i) => [k, r.x![i]])) as unknown as Evidence, { ...base, weights }) : 0;
    if (r.terse) conf = Math.min(conf, p.clarifyAt);
    if (!r.support) conf = Math.min(conf, UNSUPPORTED);
    const path: Path = conf >= p.answerAt || (conf > p.clarifyAt && r.margin >= p.marginAt) ? 'answer' : conf >= p.clarifyAt ? 'clarify' : 'fallback';
    if (r.outcome[path].right) right++;
    if (r.outcome[path].wrong) wrong++;
    if (path === 'clarify' && !r.outcome[path].right && !r.outcome[path].wrong) clarify++;
  }
  const n = rows.length || 1;
  return { acc: right / n, wrong: wrong / n, clarify: clarify / n };
}

/** Fits weights on rows and chooses the points. */
function fit(rows: Row[]): { weights: number[]; points: Points; acc: number; wrong: number; clarify: number } | null {
  const weights = fitLogistic(rows.filter((r) => r.ranked).map((r) => ({ x: r.x!, y: r.y })), 1500, 0.5, L2);
  let best: ReturnType<typeof fit> = null;
  for (const answerAt of ANSWER_AT)
    for (const clarifyAt of CLARIFY_AT)
      for (const marginAt of MARGINS) {
        const points = { answerAt, clarifyAt, marginAt };
        const s = evaluate(rows, weights, points);
        if (s.wrong > MAX_WRONG) continue;
        if (!best || s.acc - WRONG_COST * s.wrong > best.acc - WRONG_COST * best.wrong) best = { weights, points, ...s };
      }
  return best;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
let overall: { linearWeight: number; r: NonNullable<ReturnType<typeof fit>> } | null = null;
for (const linearWeight of (process.env.LINEAR_WEIGHTS ?? "0.3,0.5").split(",").map(Number)) {
  const rows = rowsFor(linearWeight);
  if (process.argv.includes('--cv')) {
    let right = 0, wrong = 0;
    for (let k = 0; k < 5; k++) {
      const r = fit(rows.filter((x) => x.fold !== k));
      const test = rows.filter((x) => x.fold === k);
      if (!r) continue;
      const s = evaluate(test, r.weights, r.points);
      right += s.acc * test.length;
      wrong += s.wrong * test.length;
    }
    console.log(`linear weight ${linearWeight}: 5-fold cross-validation inside calib: accuracy ${pct(right / rows.length)}, confidently wrong ${pct(wrong / rows.length)}`);
  }
  const r = fit(rows);
  const p = r?.points;
  console.log(`linear weight ${linearWeight}: ${r ? `accuracy ${pct(r.acc)}, wrong ${pct(r.wrong)}, clarify ${pct(r.clarify)} at answer ${p!.answerAt} / clarify ${p!.clarifyAt} / margin ${p!.marginAt}` : 'none under the wrong limit'}`);
  if (r && (!overall || r.acc - WRONG_COST * r.wrong > overall.r.acc - WRONG_COST * overall.r.wrong)) overall = { linearWeight, r };
}
if (!overall) {
  console.error(`no setting keeps confidently wrong ≤ ${MAX_WRONG}; calibration.json left as it is`);
  process.exit(1);
}
const { points } = overall.r;
const out: Calibration = {
  linearWeight: overall.linearWeight,
  weights: overall.r.weights.map((x) => Math.round(x * 1e4) / 1e4),
  answerAt: points.answerAt,
  clarifyAt: points.clarifyAt,
  ...(Number.isFinite(points.marginAt) ? { marginAt: points.marginAt } : {}),
  fittedOn: `test/fixtures/questions.jsonl calib split (${calib.length} messages)`,
};
console.log(JSON.stringify(out));
if (!process.argv.includes('--dry-run')) {
  writeFileSync(fileURLToPath(new URL('../src/nlu/calibration.json', import.meta.url)), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote src/nlu/calibration.json');
}
