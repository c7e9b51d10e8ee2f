// NLU benchmark: start-up (module load, knowledge load, index build) and classify latency.
// Run: npm run bench:nlu            (BENCH_N=5000 sets the number of timed messages, default 3000)
import { fixtureVariants } from '../scripts/decisions.js';
import { performance } from 'node:perf_hooks';

const startedAt = process.uptime() * 1000; // ms from process start to the first line of this script

const t0 = performance.now();
const { loadKnowledge } = await import('../src/knowledge/index.js');
const { createClassifier } = await import('../src/nlu/index.js');
const t1 = performance.now();
const kb = loadKnowledge();
const t2 = performance.now();
const classifier = createClassifier(kb);
const t3 = performance.now();
const readyAt = process.uptime() * 1000;

// Messages: the labelled fixtures in the variants residents add around a question (scripts/decisions.ts).
const messages = fixtureVariants();

const N = Math.max(2000, Number(process.env.BENCH_N ?? 3000));
const WARMUP = Math.min(500, messages.length);

// Warm-up: JIT, jieba and pinyin caches.
for (let i = 0; i < WARMUP; i++) classifier.classify(messages[i % messages.length]!);

const latencies = new Float64Array(N);
const decisions = new Map<string, number>();
const runStart = performance.now();
for (let i = 0; i < N; i++) {
  const text = messages[i % messages.length]!;
  const s = performance.now();
  const u = classifier.classify(text);
  latencies[i] = performance.now() - s;
  decisions.set(u.decision, (decisions.get(u.decision) ?? 0) + 1);
}
const runMs = performance.now() - runStart;

// A 300-character narrative (story, complaint, question at the end), timed on its own.
const longText = (() => {
  const story = '我家住在老小区的六楼，这个月水压一直很低，早晚用水高峰时几乎没有水，洗澡做饭都成问题。物业说是加压泵的问题，让我们找供水公司，打电话又说要等排查。家里还有老人，实在不方便。';
  let t = story;
  while ([...t].length < 280) t += story;
  return `${[...t].slice(0, 280).join('')}请问这种情况到底归谁管，多久能修好？`;
})();
const LONG_N = 500;
const longLat = new Float64Array(LONG_N);
for (let i = 0; i < LONG_N; i++) {
  const s = performance.now();
  classifier.classify(longText);
  longLat[i] = performance.now() - s;
}
const longSorted = Float64Array.from(longLat).sort();
const longPct = (p: number) => longSorted[Math.min(LONG_N - 1, Math.ceil((p / 100) * LONG_N) - 1)]!;
const rssMb = process.memoryUsage().rss / 1024 / 1024;
const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;

const sorted = Float64Array.from(latencies).sort();
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const mean = latencies.reduce((a, b) => a + b, 0) / N;

const ms = (x: number) => `${x.toFixed(x < 10 ? 3 : 1)} ms`;
const rows: [string, string][] = [
  ['process start → script', ms(startedAt)],
  ['module import', ms(t1 - t0)],
  ['knowledge load', ms(t2 - t1)],
  ['index build (createClassifier)', ms(t3 - t2)],
  ['process start → ready', ms(readyAt)],
  ['messages (distinct / timed)', `${messages.length} / ${N} (warm-up ${WARMUP})`],
  ['classify p50', ms(pct(50))],
  ['classify p99', ms(pct(99))],
  ['classify mean', ms(mean)],
  ['classify max', ms(sorted[sorted.length - 1]!)],
  [`300-char message (${[...longText].length} chars) p50 / p99`, `${ms(longPct(50))} / ${ms(longPct(99))}`],
  ['throughput', `${Math.round(N / (runMs / 1000))} msg/s`],
  ['RSS after run', `${rssMb.toFixed(1)} MB`],
  ['heap used after run', `${heapMb.toFixed(1)} MB`],
  ['decisions', [...decisions.entries()].sort((a, b) => b[1] - a[1]).map(([d, n]) => `${d} ${n}`).join(', ')],
];
const w = Math.max(...rows.map(([k]) => k.length));
console.log(`NLU bench (${kb.items.size} items, ${kb.flows.size} flows, node ${process.version})`);
console.log('-'.repeat(w + 30));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
