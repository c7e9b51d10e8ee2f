// Classifier cost against another checkout, in one process, in interleaved rounds (so a busy machine slows both alike):
//   git worktree add --detach /tmp/wsa-base <commit> && cp -a node_modules /tmp/wsa-base/
//   NLU_BASE=/tmp/wsa-base npm run bench:nlu-compare          # ROUNDS=10 by default
// Prints CPU time per message for both (best round and all rounds) and the ratio.
import { fixtureVariants } from '../scripts/decisions.js';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Classify = { classify(text: string): unknown };

const base = process.env.NLU_BASE;
if (!base) {
  console.error('NLU_BASE must name a checkout of the code to compare with (see the comment at the top)');
  process.exit(2);
}
const rounds = Math.max(2, Number(process.env.ROUNDS ?? 10));

/** The classifier of the checkout at `root`, built from its own knowledge folders. */
async function classifierAt(root: string): Promise<Classify> {
  const at = (p: string) => pathToFileURL(join(resolve(root), p)).href;
  const { loadKnowledge } = (await import(at('src/knowledge/index.ts'))) as { loadKnowledge(k?: string, f?: string): unknown };
  const { createClassifier } = (await import(at('src/nlu/index.ts'))) as { createClassifier(kb: unknown): Classify };
  return createClassifier(loadKnowledge(join(root, 'knowledge'), join(root, 'flows')));
}

// Messages: the labelled fixtures in the variants residents add around a question (scripts/decisions.ts).
const messages = fixtureVariants();

const [before, now] = [await classifierAt(base), await classifierAt('.')];
for (const m of messages.slice(0, 800)) [before, now].forEach((c) => c.classify(m));
const spent: [number[], number[]] = [[], []];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [0, 1] : [1, 0];
  for (const which of order) {
    const c = which === 0 ? before : now;
    const t = process.cpuUsage();
    for (const m of messages) c.classify(m);
    const u = process.cpuUsage(t);
    spent[which]!.push((u.user + u.system) / messages.length);
  }
}
const best = (x: number[]) => Math.min(...x);
const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
console.log(`classifier CPU per message over ${rounds} interleaved rounds of ${messages.length} messages`);
console.log(`  ${base}: best ${best(spent[0]).toFixed(0)} µs, all ${mean(spent[0]).toFixed(0)} µs`);
console.log(`  this checkout: best ${best(spent[1]).toFixed(0)} µs, all ${mean(spent[1]).toFixed(0)} µs`);
console.log(`  cheaper by ${(best(spent[0]) / best(spent[1])).toFixed(2)}× (best) / ${(mean(spent[0]) / mean(spent[1])).toFixed(2)}× (all)`);
