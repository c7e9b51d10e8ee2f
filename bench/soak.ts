/**
 * Soak: the bench:api traffic (realistic conversations, mix 70/20/10) for SOAK_MINUTES against the assistant as
 * `npm start` builds it, closed-loop with fewer connections, sampling the server's memory every SOAK_SAMPLE_S
 * (after a full GC, so the figures are live memory rather than garbage the collector has not reached yet).
 * Fails (exit 1) when its RSS at the end is more than SOAK_MAX_GROWTH % above the RSS after warm-up, or on any
 * non-2xx response, transport error, or scripted click the bot did not offer.
 *
 *   npm run bench:soak                      # 10 minutes, 10 connections, a sample every 10 s, at most 10 % growth
 *   SOAK_MINUTES=0.5 npm run bench:soak     # a short check
 *   SOAK_CONNECTIONS=20 SOAK_WARMUP=60 SOAK_MAX_GROWTH=5 npm run bench:soak
 */
import { loadKnowledge } from '../src/knowledge/index.js';
import { createCorpus } from './lib/corpus.js';
import { createHttpClient, driveConversations } from './lib/driver.js';
import { conversationLines, failed, mixFrom, positive } from './lib/report.js';
import { startServer, type ServerChild } from './lib/server.js';

const MINUTES = positive(process.env.SOAK_MINUTES, 10);
const CONNECTIONS = Math.round(positive(process.env.SOAK_CONNECTIONS, 10));
const SAMPLE_S = positive(process.env.SOAK_SAMPLE_S, 10);
// Long enough for the JIT, the SQLite page cache and the pools to settle: a tenth of the run, at most a minute.
const WARMUP_S = positive(process.env.SOAK_WARMUP, Math.min(60, Math.max(10, MINUTES * 6)));
const MAX_GROWTH = positive(process.env.SOAK_MAX_GROWTH, 10);
const MIX = mixFrom(process.env.BENCH_MIX);

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
}

async function sample(server: ServerChild, since: number): Promise<Sample> {
  const m = await server.memory(true);
  return { at: (performance.now() - since) / 1000, rss: m.rss, heapUsed: m.heapUsed };
}

async function main(): Promise<void> {
  console.log(`bench:soak — ${MINUTES} min, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up, RSS sampled every ${SAMPLE_S} s, at most ${MAX_GROWTH} % growth, node ${process.version}`);
  const kb = loadKnowledge();
  const warm = createCorpus({ kb, part: 'warmup', seed: 1 });
  const corpus = createCorpus({ kb, part: 'measure', seed: 2 });
  const server = await startServer('assistant', { exposeGc: true });
  const client = createHttpClient(server.address, CONNECTIONS);
  const samples: Sample[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const warmed = await driveConversations({ client, connections: CONNECTIONS, durationMs: WARMUP_S * 1000, next: () => warm.next(MIX) });
    if (failed(warmed)) throw new Error(`warm-up failed:\n${conversationLines(warmed).join('\n')}`);
    const since = performance.now();
    // Samples one at a time: the last one waits for a periodic one still in flight.
    let queue = Promise.resolve();
    const take = (label = '') =>
      (queue = queue.then(async () => {
        const s = await sample(server, since);
        samples.push(s);
        console.log(`  ${s.at.toFixed(0).padStart(5)} s  RSS ${mb(s.rss).padStart(7)} MB  heap used ${mb(s.heapUsed).padStart(7)} MB${label}`);
      }));
    await take(' (start)');
    timer = setInterval(() => void take().catch(() => {}), SAMPLE_S * 1000);
    const result = await driveConversations({ client, connections: CONNECTIONS, durationMs: MINUTES * 60_000, next: () => corpus.next(MIX), corpus: corpus.texts });
    clearInterval(timer);
    await take(' (end)');

    const [start, end] = [samples[0]!, samples.at(-1)!];
    const max = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const growth = ((end.rss - start.rss) / start.rss) * 100;
    console.log('');
    for (const line of conversationLines(result)) console.log(line);
    console.log(`RSS                    start ${mb(start.rss)} MB, max ${mb(max.rss)} MB (at ${max.at.toFixed(0)} s), end ${mb(end.rss)} MB: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % (limit ${MAX_GROWTH} %)`);
    console.log(`heap used              start ${mb(start.heapUsed)} MB, end ${mb(end.heapUsed)} MB`);
    if (growth > MAX_GROWTH) console.log(`FAILED: RSS grew ${growth.toFixed(1)} % over the run`);
    if (failed(result)) console.log('FAILED: non-2xx responses, errors or scripts the bot did not follow (see above)');
    if (growth > MAX_GROWTH || failed(result)) process.exitCode = 1;
  } finally {
    clearInterval(timer);
    client.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
