// Scores the classifier on the project's fixtures: calib and frozen splits, and per style.
//   npx tsx scripts/eval-fixtures.ts [--dev DEV.jsonl] [--failures] [--split frozen]
import { loadKnowledge } from '../src/knowledge/index.js';
import { createClassifier } from '../src/nlu/index.js';
import { isCorrect, readFixtures, score, type Score } from './fixtures.js';

const args = process.argv.slice(2);
const kb = loadKnowledge();
const classifier = createClassifier(kb);
const fixtures = readFixtures();
const rows = fixtures.map((f) => ({ ...f, u: classifier.classify(f.text) }));

const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(6);
const line = (name: string, s: Score) =>
  `${name.padEnd(16)} n ${String(s.n).padStart(4)} | accuracy ${pct(s.accuracy)} | confidently wrong ${pct(s.confidentlyWrong)} | clarify ${pct(s.clarify)} | one-click ${pct(s.oneClick)}`;

console.log(`fixtures (${fixtures.length}, test/fixtures/questions.jsonl)`);
for (const split of ['calib', 'frozen'] as const) console.log(line(split, score(kb, rows.filter((r) => r.split === split))));
console.log(line('all', score(kb, rows)));
console.log('per style (all splits):');
const styles = [...new Set(rows.map((r) => r.style))].sort();
for (const st of styles) console.log(`  ${line(st, score(kb, rows.filter((r) => r.style === st)))}`);
const devPath = args.includes('--dev') ? args[args.indexOf('--dev') + 1] : undefined;
if (devPath) {
  // The dev set has no style field: readFixtures infers it from the text, as for unlabelled fixtures.
  const dev = readFixtures(devPath).map((f) => ({ ...f, u: classifier.classify(f.text) }));
  console.log('dev per style (inferred):');
  for (const st of [...new Set(dev.map((r) => r.style))].sort()) console.log(`  ${line(st, score(kb, dev.filter((r) => r.style === st)))}`);
}
if (args.includes('--failures')) {
  const only = args.includes('--split') ? args[args.indexOf('--split') + 1] : null;
  for (const r of rows) {
    if ((only && r.split !== only) || isCorrect(kb, r.expect, r.u)) continue;
    const got = `${r.u.decision} ${r.u.itemId ?? r.u.flowId ?? r.u.options?.join(',') ?? r.u.handoffReason ?? ''}`;
    console.log(`x ${r.id} [${r.split}/${r.style}] ${r.expect} <- ${got} (${(r.u.confidence ?? 0).toFixed(2)}) | ${r.text.slice(0, 90)}`);
  }
}
