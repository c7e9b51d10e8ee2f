/**
 * HTTP benchmark: messages per second through the real server (memory stores, logging silent, no rate limit),
 * compared with a bare Fastify hello-world on the same machine.
 *
 *   npm run bench:api                       # 10 s per target, 50 connections, 200 conversations
 *   BENCH_DURATION=5 BENCH_CONNECTIONS=20 npm run bench:api
 *   BENCH_CPU_PROF=1 npm run bench:api      # also writes a V8 CPU profile of the assistant server to .cpu-prof/
 *
 * Each server runs in a child process, so the load generator (autocannon, in this process) does not share its
 * event loop. Everything listens on 127.0.0.1 with an ephemeral port and is stopped at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const DURATION_S = positive(process.env.BENCH_DURATION, 10);
const CONNECTIONS = positive(process.env.BENCH_CONNECTIONS, 50);
const CONVERSATIONS = positive(process.env.BENCH_CONVERSATIONS, 200);
const HOST = '127.0.0.1';

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
    // Memory stores (no REDIS_URL), silent logs, no embedding model.
    const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', REDIS_URL: '', EMBEDDING_MODEL: '' });
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
  if (target === 'assistant' && process.env.BENCH_CPU_PROF) execArgv.push('--cpu-prof', `--cpu-prof-dir=${resolve('.cpu-prof')}`);
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

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    autocannon(opts, (err, result) => (err ? rej(err) : res(result)));
  });
}

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)]!;
}

function report(name: string, r: autocannon.Result, unit: string): void {
  const ok = r['2xx'];
  console.log(
    `${name.padEnd(22)} ${(ok / r.duration).toFixed(0).padStart(7)} ${unit}/s  ` +
      `p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  max ${r.latency.max} ms  ` +
      `(${ok} ok, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.duration.toFixed(1)} s)`,
  );
}

async function main(): Promise<void> {
  console.log(`bench:api — ${CONNECTIONS} connections, ${DURATION_S} s per target, ${CONVERSATIONS} conversations, node ${process.version}`);

  const assistant = await startServer('assistant');
  let messages: autocannon.Result;
  try {
    const ids: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const res = await fetch(`${assistant.address}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (res.status !== 201) throw new Error(`creating a conversation answered ${res.status}: ${await res.text()}`);
      ids.push(((await res.json()) as { conversationId: string }).conversationId);
    }
    // Warm the JIT and the classifier caches a little before measuring.
    await run({ url: assistant.address, connections: 10, amount: 500, requests: [messageRequest(ids)] });
    messages = await run({ url: assistant.address, connections: CONNECTIONS, duration: DURATION_S, timeout: 10, requests: [messageRequest(ids)] });
    const sample = await fetch(`${assistant.address}/api/v1/conversations/${ids[0]}/messages`);
    if (sample.status !== 200) throw new Error(`transcript read answered ${sample.status}`);
  } finally {
    await stopServer(assistant.child);
  }

  const hello = await startServer('hello');
  let baseline: autocannon.Result;
  try {
    await run({ url: hello.address, connections: 10, amount: 2000 });
    baseline = await run({ url: hello.address, connections: CONNECTIONS, duration: DURATION_S, timeout: 10 });
  } finally {
    await stopServer(hello.child);
  }

  console.log('');
  report('assistant messages', messages, 'msg');
  report('fastify hello-world', baseline, 'req');
  const ratio = messages['2xx'] / messages.duration / (baseline['2xx'] / baseline.duration);
  console.log(`ratio                  ${(ratio * 100).toFixed(1)} % of hello-world throughput`);
  if (messages.non2xx > 0 || messages.errors > 0) {
    console.log(`status codes: ${JSON.stringify(messages.statusCodeStats ?? {})}`);
    process.exitCode = 1;
  }
  if (process.env.BENCH_CPU_PROF) console.log(`CPU profile of the assistant server written to ${resolve('.cpu-prof')}`);
}

/** One POST per call, to a random conversation with a random realistic text. */
function messageRequest(ids: string[]): autocannon.Request {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({ ...req, path: `/api/v1/conversations/${pick(ids)}/messages`, body: JSON.stringify({ text: pick(TEXTS) }) }),
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
