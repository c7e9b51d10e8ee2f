// Pipes ../shared/eval/dev.jsonl through `classify` and scores it, when that folder exists.
import { existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dev = '../shared/eval/dev.jsonl';
const scorer = '../shared/eval/score.mjs';
if (!existsSync(dev) || !existsSync(scorer)) {
  console.log('eval: ../shared/eval not found; nothing to score');
  process.exit(0);
}
const out = execFileSync('npx', ['tsx', 'src/cli.ts', 'classify'], { input: execFileSync('cat', [dev]), maxBuffer: 64 << 20 });
writeFileSync('/tmp/wsa-dev-predictions.jsonl', out);
process.stdout.write(execFileSync('node', [scorer, dev, '/tmp/wsa-dev-predictions.jsonl']));
