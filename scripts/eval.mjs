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
}
console.log('');
// The fixtures, and the dev set per style (inferred from the text, as for unlabelled fixtures: scripts/fixtures.ts).
process.stdout.write(run('npx', ['tsx', 'scripts/eval-fixtures.ts', ...(dir ? ['--dev', join(dir, 'dev.jsonl')] : []), ...process.argv.slice(2)]));

