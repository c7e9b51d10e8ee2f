// npm run eval: the dev set (../shared/eval, through the classify CLI and score.mjs, with a per-style breakdown)
// and the project's fixtures (calib and frozen splits, per style: scripts/eval-fixtures.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const dirs = [process.env.EVAL_DIR, '../shared/eval', '../../shared/eval'].filter(Boolean);
const dir = dirs.find((d) => existsSync(join(d, 'dev.jsonl')) && existsSync(join(d, 'score.mjs')));
const run = (cmd, args, input) => execFileSync(cmd, args, { input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'inherit'] });

if (!dir) console.log('eval: no ../shared/eval (set EVAL_DIR); dev set skipped');
else {
  const dev = join(dir, 'dev.jsonl');
  const out = run('npx', ['tsx', 'src/cli.ts', 'classify'], readFileSync(dev));
  const preds = '/tmp/wsa-dev-predictions.jsonl';
  writeFileSync(preds, out);
  console.log(`dev set (${dev})`);
  process.stdout.write(run('node', [join(dir, 'score.mjs'), dev, preds]));
  // Per style: the dev set has no style field, so the style is inferred from the text as for unlabelled fixtures.
  const result = JSON.parse(run('node', [join(dir, 'score.mjs'), dev, preds, '--json']).toString());
  const failed = new Map(result.failures.map((f) => [f.id, f.got]));
  const styles = new Map();
  for (const line of readFileSync(dev, 'utf8').split('\n').filter((l) => l.trim())) {
    const q = JSON.parse(line);
    const s = styleOf(q.text, q.expect);
    const row = styles.get(s) ?? { n: 0, right: 0, wrong: 0 };
    row.n++;
    const got = failed.get(q.id);
    if (got === undefined) row.right++;
    else if (/^(answer|flow) /.test(got)) row.wrong++;
    styles.set(s, row);
  }
  console.log('dev per style (inferred):');
  for (const [s, r] of [...styles].sort()) console.log(`  ${s.padEnd(14)} n ${String(r.n).padStart(4)} | accuracy ${((100 * r.right) / r.n).toFixed(1)}% | confidently wrong ${((100 * r.wrong) / r.n).toFixed(1)}%`);
}
console.log('');
process.stdout.write(run('npx', ['tsx', 'scripts/eval-fixtures.ts', ...process.argv.slice(2)]));

/** Same inference as scripts/fixtures.ts inferStyle. */
function styleOf(text, expect) {
  const latin = (text.match(/[a-zA-Z]/g) ?? []).length;
  const han = (text.match(/\p{Script=Han}/gu) ?? []).length;
  if (latin > han * 2 && /\b(the|my|how|what|can|is|do|i|water)\b/i.test(text)) return 'english';
  if (latin >= 6) return 'pinyin';
  if ([...text].length >= 80) return 'long';
  if (/[們麼戶請錶費為這換與後開來時點發問]/.test(text)) return '繁體';
  if (expect === 'smalltalk') return 'closings';
  if (expect === 'out-of-scope') return 'out-of-scope';
  return 'short';
}
