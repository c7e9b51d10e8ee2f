/**
 * HTTP benchmark: messages per second through the real server as `npm start` builds it on the embedded defaults
 * (SQLite in a fresh temporary data folder, logging silent, rate limit off), driven by realistic conversations —
 * guide questions with follow-ups, complete 一件事 flows to submission, handoffs — drawn from more than 2,000
 * distinct texts (bench/lib/corpus.ts), compared with a bare Fastify hello-world driven by the same client.
 *
 *   npm run bench:api                       # 10 s per target, 50 connections (virtual users), mix 70/20/10
 *   BENCH_DURATION=5 BENCH_CONNECTIONS=20 npm run bench:api
 *   BENCH_MIX=0/100/0 npm run bench:api     # guide/flow/handoff shares of the conversations
 *   BENCH_WARMUP=5 npm run bench:api        # seconds of warm-up (own texts, never the measured ones; default 5)
 *   STORE=memory npm run bench:api          # the memory backend instead of SQLite (any app variable passes through)
 *   BENCH_EMBEDDING_MODEL=<dir or hub id> npm run bench:api   # with dense retrieval (default: lexical only)
 *   BENCH_CPU_PROF=1 npm run bench:api      # also writes a V8 CPU profile of the assistant server to $TMPDIR/wsa-bench-cpu-prof/
 *
 * Each server runs in a child process, so the load driver (this process) does not share its event loop; the
 * hello-world is also measured with autocannon, which shows whether the driver itself is the limit.
 * Exits 1 on any non-2xx response, transport error, or scripted click the bot did not offer.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config.js';
import { loadKnowledge } from '../src/knowledge/index.js';
import { createCorpus, MIN_TEXTS } from './lib/corpus.js';
import { createHttpClient, driveConversations, driveRequests, rate, type DriveResult } from './lib/driver.js';
import { conversationLines, failed, mixFrom, positive, requestLine } from './lib/report.js';
import { startServer } from './lib/server.js';

const DURATION_S = positive(process.env.BENCH_DURATION, 10);
const CONNECTIONS = Math.round(positive(process.env.BENCH_CONNECTIONS, 50));
const WARMUP_S = positive(process.env.BENCH_WARMUP, 5);
const MIX = mixFrom(process.env.BENCH_MIX);
const PROFILE_DIR = join(tmpdir(), 'wsa-bench-cpu-prof');

/** Warm-up, then the measured run, against the assistant. */
async function measureAssistant(): Promise<DriveResult> {
  const kb = loadKnowledge();
  const warm = createCorpus({ kb, part: 'warmup', seed: 1 });
  const corpus = createCorpus({ kb, part: 'measure', seed: 2 });
  console.log(`corpus: ${corpus.texts.length} distinct texts (at least ${MIN_TEXTS}); measured from ${corpus.guideTexts.length} guide, ${corpus.flowTexts.length} flow-start and ${corpus.handoffTexts.length} handoff texts, warm-up from ${warm.guideTexts.length + warm.flowTexts.length + warm.handoffTexts.length} others; ${corpus.scripts.length} scripted dialogues`);
  const server = await startServer('assistant', process.env.BENCH_CPU_PROF ? { cpuProfileDir: PROFILE_DIR } : {});
  const client = createHttpClient(server.address, CONNECTIONS);
  try {
    // Opens every connection and warms the JIT on texts the measured run never sends.
    const warmed = await driveConversations({ client, connections: CONNECTIONS, durationMs: WARMUP_S * 1000, next: () => warm.next(MIX) });
    if (failed(warmed)) throw new Error(`warm-up failed:\n${conversationLines(warmed).join('\n')}`);
    return await driveConversations({ client, connections: CONNECTIONS, durationMs: DURATION_S * 1000, next: () => corpus.next(MIX), corpus: corpus.texts });
  } finally {
    client.close();
    await server.stop();
  }
}

/** The hello-world through the same driver, and through autocannon (the driver's own ceiling check). */
async function measureHello(): Promise<{ driver: DriveResult; autocannon: autocannon.Result }> {
  const server = await startServer('hello');
  const client = createHttpClient(server.address, CONNECTIONS);
  try {
    await driveRequests({ client, connections: CONNECTIONS, durationMs: 1000 });
    const driver = await driveRequests({ client, connections: CONNECTIONS, durationMs: DURATION_S * 1000 });
    const cannon = await autocannon({ url: server.address, connections: CONNECTIONS, duration: DURATION_S, timeout: 10 });
    return { driver, autocannon: cannon };
  } finally {
    client.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const mix = `${MIX.guide}/${MIX.flow}/${MIX.handoff}`;
  console.log(`bench:api — ${CONNECTIONS} connections, ${DURATION_S} s per target after ${WARMUP_S} s warm-up, mix guide/flow/handoff ${mix}, NLU ${process.env.BENCH_EMBEDDING_MODEL ? `lexical + dense (${process.env.BENCH_EMBEDDING_MODEL})` : 'lexical only'}, NLU_WORKERS ${loadConfig(process.env).NLU_WORKERS}, node ${process.version}`);
  const messages = await measureAssistant();
  const hello = await measureHello();

  console.log('');
  console.log('assistant (SQLite, single process)');
  for (const line of conversationLines(messages)) console.log(line);
  console.log('');
  console.log(requestLine('fastify hello-world', hello.driver));
  const a = hello.autocannon;
  console.log(`${'  same, by autocannon'.padEnd(22)} ${(a['2xx'] / a.duration).toFixed(0).padStart(7)} req/s  p50 ${a.latency.p50} ms  p99 ${a.latency.p99} ms  (the driver's ceiling: ${((rate(hello.driver) / (a['2xx'] / a.duration)) * 100).toFixed(0)} % of autocannon's)`);
  const ratio = rate(messages) / rate(hello.driver);
  console.log(`ratio                  ${(ratio * 100).toFixed(1)} % of hello-world throughput (1 : ${(1 / ratio).toFixed(0)})`);
  if (process.env.BENCH_CPU_PROF) console.log(`CPU profile of the assistant server written to ${PROFILE_DIR}`);
  if (failed(messages) || failed(hello.driver)) {
    console.log('FAILED: non-2xx responses, errors or scripts the bot did not follow (see above)');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
