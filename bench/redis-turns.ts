/**
 * Redis commands per user message, in-process: the assistant as main.ts composes it (rate limit, handoff, analytics),
 * on a private redis-server, driven through fastify's inject. INFO commandstats is read around a fixed number of
 * guide-question turns (20 conversations × 10 messages by default), so the figure is exact and repeatable.
 *
 *   npx tsx bench/redis-turns.ts                 # 200 turns
 *   BENCH_TURNS=400 npx tsx bench/redis-turns.ts
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/redis-turns.ts   # a V8 profile of the same run
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { createAssistant } from '../src/main.js';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/server/index.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { createCorpus } from './lib/corpus.js';
import { positive } from './lib/report.js';

const TURNS = positive(process.env.BENCH_TURNS, 200);
const PER_CONVERSATION = 10;

/** Calls per command since Redis started. */
async function commandStats(url: string): Promise<Map<string, number>> {
  const c = createClient({ url });
  await c.connect();
  try {
    return new Map([...(await c.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
  } finally {
    await c.close();
  }
}

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'wsa-redis-turns-'));
  const config = loadConfig({ ...process.env, REDIS_URL: redis.url, REDIS_PREFIX: 'wsa-turns', RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'error', KNOWLEDGE_WATCH: 'false', DATA_DIR: dataDir, HANDOFF_DATA_DIR: dataDir, EMBEDDING_MODEL: '' });
  const assistant = await createAssistant(config);
  const app = await buildServer({ service: assistant.service, stores: assistant.stores, logger: assistant.logger, rateLimitMax: config.RATE_LIMIT_MAX });
  const texts = createCorpus({ kb: assistant.kb, part: 'measure', seed: 1 }).guideTexts;
  try {
    const conversations = await Promise.all(
      Array.from({ length: Math.ceil(TURNS / PER_CONVERSATION) }, async () => {
        const r = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload: {} });
        return r.json<{ conversationId: string; token: string }>();
      }),
    );
    const before = await commandStats(redis.url);
    const t0 = performance.now();
    const window0 = process.hrtime.bigint() / 1000n;
    let sent = 0;
    // The conversations run side by side, each one message at a time (a user waits for the reply).
    await Promise.all(
      conversations.map(async (c, n) => {
        for (let i = 0; i < PER_CONVERSATION && sent < TURNS; i++) {
          const text = texts[(n * PER_CONVERSATION + i) % texts.length]!;
          sent++;
          const r = await app.inject({ method: 'POST', url: `/api/v1/conversations/${c.conversationId}/messages`, headers: { authorization: `Bearer ${c.token}` }, payload: { text, clientMessageId: `m-${n}-${i}` } });
          if (r.statusCode !== 200) throw new Error(`turn answered ${r.statusCode}: ${r.body}`);
        }
      }),
    );
    const ms = performance.now() - t0;
    // Monotonic µs, the clock of V8's CPU profiles: scripts/cpu-share.ts reads only the samples in between.
    console.log(`measured window: ${window0}-${process.hrtime.bigint() / 1000n} µs`);
    const after = await commandStats(redis.url);
    const delta = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0) - (k === 'info' ? 1 : 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
    const total = delta.reduce((s, [, v]) => s + v, 0);
    console.log(`${sent} turns in ${ms.toFixed(0)} ms: ${total} Redis commands, ${(total / sent).toFixed(2)} per user message`);
    console.log(delta.map(([k, v]) => `${k} ${(v / sent).toFixed(2)}`).join(', '));
  } finally {
    await app.close();
    for (const hook of assistant.shutdownHooks) await hook();
    await assistant.bus?.close();
    await assistant.stores.close();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
