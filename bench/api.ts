/**
 * HTTP benchmark: messages per second through the real server (memory stores, logging silent, no rate limit),
 * compared with a bare Fastify hello-world on the same machine.
 *
 *   npm run bench:api                       # 10 s per target, 50 connections, 200 conversations
 *   BENCH_DURATION=5 BENCH_CONNECTIONS=20 npm run bench:api
 *   BENCH_EMBEDDING_MODEL=<dir or hub id> npm run bench:api   # with dense retrieval (default: lexical only)
 *   BENCH_CPU_PROF=1 npm run bench:api      # also writes a V8 CPU profile of the assistant server to $TMPDIR/wsa-bench-cpu-prof/
 *
 * Each server runs in a child process, so the load generator (autocannon, in this process) does not share its
 * event loop. Everything listens on 127.0.0.1 with an ephemeral port and is stopped at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const DURATION_S = positive(process.env.BENCH_DURATION, 10);
const CONNECTIONS = positive(process.env.BENCH_CONNECTIONS, 50);
const CONVERSATIONS = positive(process.env.BENCH_CONVERSATIONS, 200);
const HOST = '127.0.0.1';
const PROFILE_DIR = join(tmpdir(), 'wsa-bench-cpu-prof');

/** What customers type, mixed: guide questions, follow-ups, small talk, a flow start and leaving it again. */
const TEXTS = [
  '水费在哪交',
  '过户要带什么材料',
  '水表过户需要多久',
  '营业厅几点上班',
  '发票怎么开',
  '代扣怎么签',
  '阶梯水价怎么算',
  '水管漏水找谁修',
  '家里水压很小怎么回事',
  '那要多少钱',
  '可以网上办吗',
  '你好',
  '谢谢',
  '我要开店',
  '取消办理',
  '帮我查一下欠费',
];

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

type Target = 'assistant' | 'hello';

// ---------------------------------------------------------------- child: one server

async function serve(target: Target): Promise<void> {
  let app: { listen(o: { port: number; host: string }): Promise<string>; close(): Promise<unknown> };
  let closeStores = async (): Promise<void> => {};
  if (target === 'assistant') {
    const { createAssistant } = await import('../src/main.js');
    const { loadConfig } = await import('../src/config.js');
    const { buildServer } = await import('../src/server/index.js');
    // Memory stores (no REDIS_URL), silent logs; lexical NLU unless BENCH_EMBEDDING_MODEL names a model.
    const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', REDIS_URL: '', EMBEDDING_MODEL: process.env.BENCH_EMBEDDING_MODEL ?? '' });
    const assistant = await createAssistant(config);
    app = await buildServer({ service: assistant.service, stores: assistant.stores, logger: assistant.logger, rateLimitMax: 0 });
    closeStores = () => assistant.stores.close();
  } else {
    const { default: Fastify } = await import('fastify');
    const hello = Fastify({ logger: false });
    hello.get('/', async () => ({ hello: 'world' }));
    app = hello;
  }
  const address = await app.listen({ port: 0, host: HOST });
  const stop = async () => {
    await app.close();
    await closeStores();
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.send!({ address });
}

// ---------------------------------------------------------------- parent: drive the load

/** Starts a server child process and waits for its address. */
async function startServer(target: Target): Promise<{ child: ChildProcess; address: string }> {
  const execArgv = [...process.execArgv];
  if (target === 'assistant' && process.env.BENCH_CPU_PROF) execArgv.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`);
  const child = fork(fileURLToPath(import.meta.url), [`--serve=${target}`], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const [first] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`${target} server exited early (code ${code})`);
      }),
    ])) as [{ address: string }];
    return { child, address: first.address };
  } finally {
    clearTimeout(timer);
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Run {
  result: autocannon.Result;
  /** Latency without each connection's first response (see below), in ms. */
  steady: { p50: number; p99: number; max: number };
}

/**
 * Runs autocannon and also keeps every response time. When all connections open at once against a CPU-bound
 * server, the server accepts about one new connection per event-loop turn, so the first response on each
 * connection can wait seconds; the steady figures leave those first responses out.
 */
function run(opts: autocannon.Options): Promise<Run> {
  return new Promise((res, rej) => {
    const seen = new Set<unknown>();
    const times: number[] = [];
    const instance = autocannon(opts, (err, result) => {
      if (err) return rej(err);
      times.sort((a, b) => a - b);
      const at = (q: number) => (times.length ? Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 10) / 10 : NaN);
      res({ result, steady: { p50: at(0.5), p99: at(0.99), max: at(1) } });
    });
    instance.on('response', (client, _status, _bytes, responseTime) => {
      if (seen.has(client)) times.push(responseTime);
      else seen.add(client);
    });
  });
}

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)]!;
}

function report(name: string, { result: r, steady }: Run, unit: string): void {
  const ok = r['2xx'];
  console.log(
    `${name.padEnd(22)} ${(ok / r.duration).toFixed(0).padStart(7)} ${unit}/s  ` +
      `p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  max ${r.latency.max} ms  ` +
      `(${ok} ok, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.duration.toFixed(1)} s)`,
  );
  console.log(`${''.padEnd(22)} steady state (without each connection's first response): p50 ${steady.p50} ms  p99 ${steady.p99} ms  max ${steady.max} ms`);
}

async function main(): Promise<void> {
  console.log(`bench:api — ${CONNECTIONS} connections, ${DURATION_S} s per target, ${CONVERSATIONS} conversations, NLU ${process.env.BENCH_EMBEDDING_MODEL ? `lexical + dense (${process.env.BENCH_EMBEDDING_MODEL})` : 'lexical only'}, node ${process.version}`);

  const assistant = await startServer('assistant');
  let messages: Run;
  try {
    const ids: Conversation[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const res = await fetch(`${assistant.address}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (res.status !== 201) throw new Error(`creating a conversation answered ${res.status}: ${await res.text()}`);
      const { conversationId: id, token } = (await res.json()) as { conversationId: string; token: string };
      ids.push({ id, token });
    }
    // Warm the JIT and the classifier caches a little before measuring.
    await run({ url: assistant.address, connections: 10, amount: 500, requests: [messageRequest(ids)] });
    messages = await run({ url: assistant.address, connections: CONNECTIONS, duration: DURATION_S, timeout: 10, requests: [messageRequest(ids)] });
    const sample = await fetch(`${assistant.address}/api/v1/conversations/${ids[0]!.id}/messages`, { headers: { authorization: `Bearer ${ids[0]!.token}` } });
    if (sample.status !== 200) throw new Error(`transcript read answered ${sample.status}`);
  } finally {
    await stopServer(assistant.child);
  }

  const hello = await startServer('hello');
  let baseline: Run;
  try {
    await run({ url: hello.address, connections: 10, amount: 2000 });
    baseline = await run({ url: hello.address, connections: CONNECTIONS, duration: DURATION_S, timeout: 10 });
  } finally {
    await stopServer(hello.child);
  }

  console.log('');
  report('assistant messages', messages, 'msg');
  report('fastify hello-world', baseline, 'req');
  const m = messages.result;
  const b = baseline.result;
  const ratio = m['2xx'] / m.duration / (b['2xx'] / b.duration);
  console.log(`ratio                  ${(ratio * 100).toFixed(1)} % of hello-world throughput (1 : ${(1 / ratio).toFixed(0)})`);
  if (m.non2xx > 0 || m.errors > 0) {
    console.log(`status codes: ${JSON.stringify(m.statusCodeStats ?? {})}`);
    process.exitCode = 1;
  }
  if (process.env.BENCH_CPU_PROF) console.log(`CPU profile of the assistant server written to ${PROFILE_DIR}`);
}

/** A conversation and its token. */
interface Conversation {
  id: string;
  token: string;
}

/** One POST per call, to a random conversation with a random realistic text. */
function messageRequest(ids: Conversation[]): autocannon.Request {
  return {
    method: 'POST',
    setupRequest: (req) => {
      const c = pick(ids);
      return { ...req, path: `/api/v1/conversations/${c.id}/messages`, headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` }, body: JSON.stringify({ text: pick(TEXTS) }) };
    },
  };
}

const serveArg = process.argv.find((a) => a.startsWith('--serve='));
if (serveArg) {
  serve(serveArg.slice('--serve='.length) as Target).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
