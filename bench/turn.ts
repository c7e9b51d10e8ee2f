/**
 * In-process turn benchmark: microseconds per turn through the conversation service, split into the time spent
 * inside the classifier and the rest of the pipeline (stores, sealing, hooks, engine, masking, metrics).
 *
 *   npm run bench:turn                          # 3,000 measured turns straight into ConversationService.send
 *   BENCH_MODE=inject npm run bench:turn        # the same turns through fastify (app.inject): adds route + JSON
 *   BENCH_PRECOMPUTED=1 npm run bench:turn      # classifier answers recorded in a first pass, replayed when measuring
 *   BENCH_CPU_PROF=1 npm run bench:turn         # V8 CPU profile of the measured pass in $TMPDIR/wsa-bench-cpu-prof/
 *   BENCH_TURNS=5000 BENCH_CONVERSATIONS=300 npm run bench:turn
 *   BENCH_HANDOFFS=1 npm run bench:turn         # also the fixtures that ask for a person (they stay queued: no agents)
 *   STORE=memory npm run bench:turn             # memory stores instead of the embedded SQLite default
 *
 * The texts are the question fixtures (test/fixtures/questions.jsonl) mixed with scripted application flows
 * (test/conversations/apply-*.yaml), one conversation at a time per turn, on the embedded SQLite store in a
 * temporary DATA_DIR, logging silent. The precomputed mode is for profiling the rest alone: the classifier is then
 * a lookup of answers it gave before for the same text, which a real server never has.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';
import { createAssistant } from '../src/main.js';
import type { Message } from '../src/core/index.js';
import type { Classifier } from '../src/nlu/index.js';
import { buildServer } from '../src/server/index.js';

const TURNS = positive(process.env.BENCH_TURNS, 3000);
const WARMUP = positive(process.env.BENCH_WARMUP, 1500);
const CONVERSATIONS = positive(process.env.BENCH_CONVERSATIONS, 200);
const MODE = process.env.BENCH_MODE === 'inject' ? 'inject' : 'service';
const PRECOMPUTED = !!process.env.BENCH_PRECOMPUTED;
const HANDOFFS = !!process.env.BENCH_HANDOFFS;
const PROFILE_DIR = join(tmpdir(), 'wsa-bench-cpu-prof');
/** Share of conversations that run an application flow script (the rest ask fixture questions). */
const FLOW_SHARE = 0.25;

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** A deterministic generator, so two runs send the same turns. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One user action: typed text, a raw postback, or a click on a button of the last reply (by title). */
type Action = { text: string } | { postback: string } | { click: string };

/**
 * The fixture questions. Those that ask for a person are left out unless BENCH_HANDOFFS is set: with no agent to
 * answer, such a conversation stays queued and every later turn measures the handoff queue, not the pipeline.
 */
function questions(): string[] {
  const rows = readFileSync('test/fixtures/questions.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; expect: string });
  return rows.filter((r) => HANDOFFS || !r.expect.startsWith('handoff')).map((r) => r.text);
}

/** The application scripts' user turns (Chinese, no fixed clock waits, no agents). */
function flowScripts(): Action[][] {
  const dir = 'test/conversations';
  return readdirSync(dir)
    .filter((f) => f.startsWith('apply-') && f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as { lang?: string; turns: Array<{ user?: string; postback?: string; click?: string; wait?: number }> })
    .filter((s) => !s.lang && s.turns.every((t) => !t.wait))
    .map((s) => s.turns.flatMap((t): Action[] => (t.user !== undefined ? [{ text: t.user }] : t.postback ? [{ postback: t.postback }] : t.click ? [{ click: t.click }] : [])));
}

/** Per conversation, an endless stream of actions: fixture questions, now and then a whole flow script. */
function planner(seed: number, texts: string[], flows: Action[][]): () => Action {
  const random = rng(seed);
  let queue: Action[] = [];
  return () => {
    if (!queue.length) queue = random() < FLOW_SHARE ? [...flows[Math.floor(random() * flows.length)]!] : [{ text: texts[Math.floor(random() * texts.length)]! }];
    return queue.shift()!;
  };
}

/** Times every classifier call; with `replay`, answers from what it answered before for the same arguments. */
function timedClassifier(inner: Classifier, replay: boolean): { classifier: Classifier; spent: { ms: number; calls: number; by: Record<string, number> }; recording: { on: boolean } } {
  const spent = { ms: 0, calls: 0, by: {} as Record<string, number> };
  const recording = { on: true };
  const memo = new Map<string, unknown>();
  const wrap = <A extends unknown[], R>(name: string, fn: (...a: A) => R) => (...a: A): R => {
    const t0 = performance.now();
    try {
      if (!replay) return fn(...a);
      const key = `${name}\u0000${JSON.stringify(a)}`;
      if (!recording.on && memo.has(key)) return memo.get(key) as R;
      const r = fn(...a);
      memo.set(key, r);
      return r;
    } finally {
      spent.ms += performance.now() - t0;
      spent.calls++;
      spent.by[name] = (spent.by[name] ?? 0) + 1;
    }
  };
  const classifier: Classifier = {
    classify: wrap('classify', inner.classify.bind(inner)),
    langOf: wrap('langOf', inner.langOf.bind(inner)),
    aspectOf: wrap('aspectOf', inner.aspectOf.bind(inner)),
    rank: wrap('rank', inner.rank.bind(inner)),
    evidence: wrap('evidence', inner.evidence.bind(inner)),
  };
  return { classifier, spent, recording };
}

const plans = { texts: questions(), flows: flowScripts() };

interface Driver {
  start(): Promise<string>;
  send(id: string, input: { text: string } | { postback: string }): Promise<Message[]>;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsa-bench-turn-'));
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', REDIS_URL: '', EMBEDDING_MODEL: '', DATA_DIR: dataDir, HANDOFF_DATA_DIR: dataDir, KNOWLEDGE_WATCH: 'false' });
  const assistant = await createAssistant(config);
  const timed = timedClassifier(assistant.classifier, PRECOMPUTED);
  assistant.service.reload({ kb: assistant.kb, classifier: timed.classifier });
  const driver = MODE === 'inject' ? await injectDriver(assistant) : serviceDriver(assistant);
  console.log(`bench:turn — ${MODE}, ${TURNS} turns (${WARMUP} warm-up) over ${CONVERSATIONS} conversations, store ${assistant.stores.backend}, classifier ${PRECOMPUTED ? 'precomputed (replayed)' : 'live'}, node ${process.version}`);
  try {
    // The warm-up runs the same plan as the measured pass, so in precomputed mode every answer is recorded.
    await pass(driver, WARMUP + TURNS, 1);
    timed.recording.on = false;
    const before = { ...timed.spent, by: { ...timed.spent.by } };
    const profiler = process.env.BENCH_CPU_PROF ? await startProfile() : undefined;
    const cpu0 = process.cpuUsage();
    const r = await pass(driver, TURNS, PRECOMPUTED ? 1 : 2);
    const cpu = process.cpuUsage(cpu0);
    if (profiler) await profiler();
    const classifierMs = timed.spent.ms - before.ms;
    const calls = timed.spent.calls - before.calls;
    const us = (ms: number) => ((ms * 1000) / TURNS).toFixed(0).padStart(6);
    console.log(`per turn      ${us(r.ms)} µs   (${(TURNS / (r.ms / 1000)).toFixed(0)} turns/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms)`);
    const by = Object.entries(timed.spent.by).map(([k, n]) => `${k} ${((n - (before.by[k] ?? 0)) / TURNS).toFixed(2)}`).join(', ');
    console.log(`  classifier  ${us(classifierMs)} µs   (${(calls / TURNS).toFixed(2)} calls per turn: ${by}${PRECOMPUTED ? '; replayed' : ''})`);
    console.log(`  the rest    ${us(r.ms - classifierMs)} µs`);
    // CPU time (all threads of the process) is steadier than wall time on a busy machine; disk waits are not in it.
    console.log(`CPU per turn  ${us((cpu.user + cpu.system) / 1000)} µs   (user ${us(cpu.user / 1000).trim()}, system ${us(cpu.system / 1000).trim()}; the rest ≈ ${us((cpu.user + cpu.system) / 1000 - classifierMs).trim()} µs)`);
  } finally {
    await driver.close();
    await assistant.handoff.close();
    await assistant.bus.close();
    await assistant.stores.close();
    if (process.env.BENCH_KEEP_DATA) console.log(`data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs `turns` turns over fresh conversations, each conversation following its own plan (seeded by its index). */
async function pass(driver: Driver, turns: number, seed: number): Promise<{ ms: number; p50: number; p99: number }> {
  const { texts, flows } = plans;
  const convs: Array<{ id: string; next: () => Action; last: Message[] }> = [];
  for (let i = 0; i < CONVERSATIONS; i++) convs.push({ id: await driver.start(), next: planner(seed * 100_003 + i, texts, flows), last: [] });
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < turns; i++) {
    const c = convs[i % convs.length]!;
    const a = c.next();
    let input: { text: string } | { postback: string };
    if ('click' in a) {
      const hit = c.last.at(-1)?.quickReplies?.find((q) => q.title === a.click);
      // The script went another way for this conversation (an earlier answer differed): type the title instead.
      input = hit ? { postback: hit.postback } : { text: a.click };
    } else input = a;
    const s = performance.now();
    c.last = await driver.send(c.id, input);
    times.push(performance.now() - s);
  }
  const ms = performance.now() - t0;
  times.sort((a, b) => a - b);
  return { ms, p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

function serviceDriver(a: Awaited<ReturnType<typeof createAssistant>>): Driver {
  return {
    start: async () => (await a.service.start()).conversationId,
    send: async (id, input) => (await a.service.send(id, input)).messages,
    close: async () => {},
  };
}

async function injectDriver(a: Awaited<ReturnType<typeof createAssistant>>): Promise<Driver> {
  const app = await buildServer({ service: a.service, stores: a.stores, logger: a.logger, rateLimitMax: 0 });
  const tokens = new Map<string, string>();
  return {
    async start() {
      const res = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload: {} });
      const { conversationId, token } = res.json() as { conversationId: string; token: string };
      tokens.set(conversationId, token);
      return conversationId;
    },
    async send(id, input) {
      const res = await app.inject({ method: 'POST', url: `/api/v1/conversations/${id}/messages`, headers: { authorization: `Bearer ${tokens.get(id)}` }, payload: input });
      if (res.statusCode !== 200) throw new Error(`message answered ${res.statusCode}: ${res.body}`);
      return (res.json() as { messages: Message[] }).messages;
    },
    close: () => app.close(),
  };
}

/** Starts the V8 profiler; the returned function stops it and writes the profile. */
async function startProfile(): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    const file = join(PROFILE_DIR, `turn-${MODE}${PRECOMPUTED ? '-precomputed' : ''}-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.log(`CPU profile of the measured pass written to ${file}`);
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
