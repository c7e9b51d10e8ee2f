/**
 * Load benchmark on the two-instance cluster with Redis (scripts/cluster-local.sh, without its proxy: this client
 * sends each request to the next instance in turn). Mixed traffic from the corpus, 70 % guide questions, 20 %
 * flows, 10 % handoffs, answered by simulated agents; then every transcript is audited, and the run fails (exit 1)
 * when a message was lost or stored twice.
 *
 *   npm run bench:load                                  # 30 s after a 3 s warm-up, 64 users, 4 agents
 *   BENCH_DURATION=5 BENCH_USERS=16 npm run bench:load  # a short check
 *   npm run build && CLUSTER_ENTRY=dist npm run bench:load   # the compiled server, as in production
 *
 * Other settings: BENCH_WARMUP (s), BENCH_AGENTS, BENCH_AGENT_CAPACITY (conversations one agent holds at once),
 * BENCH_AGENT_WAIT (s a queued user waits for an agent before booking a callback), BENCH_LOG_LEVEL (instances'),
 * BENCH_JSON=<file> (the figures and the audit as JSON, for the README and the test), BENCH_CPU_PROF=1 (V8 CPU profiles
 * of both instances into $TMPDIR/wsa-bench-load-prof/).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { addCounts, auditConversation, emptyCounts, type AuditCounts, type StoredForm } from './lib/audit.js';
import { addAgents, SimulatedAgent, type AgentStats } from './lib/agents.js';
import { createCorpus, DEFAULT_MIX, type Corpus } from './lib/corpus.js';
import { LatencyHistogram } from './lib/histogram.js';
import { ClusterHttp } from './lib/cluster-http.js';
import { positive } from './lib/report.js';
import { playConversation, type LoadContext } from './lib/load-user.js';
import { mobile, seededRandom } from './lib/personal.js';
import { maskerFor } from '../src/conversation/index.js';
import { loadHandoffTexts } from '../src/handoff/index.js';
import { loadKnowledge } from '../src/knowledge/index.js';
import { startCluster } from '../scripts/cluster-local.js';
import type { Message } from '../src/core/index.js';

const env = process.env;
const DURATION_S = positive(env.BENCH_DURATION, 30);
const WARMUP_S = env.BENCH_WARMUP === '0' ? 0 : positive(env.BENCH_WARMUP, 3);
const USERS = positive(env.BENCH_USERS, 64);
const AGENTS = positive(env.BENCH_AGENTS, 4);
const CAPACITY = positive(env.BENCH_AGENT_CAPACITY, 4);
const AGENT_WAIT_S = positive(env.BENCH_AGENT_WAIT, 5);
const PREFIX = 'wsa-bench';
const AUDIT_READERS = 16;
const PROFILE_DIR = join(tmpdir(), 'wsa-bench-load-prof');

/** Runs `users` closed-loop virtual users until the deadline; each finishes the conversation (and handoff) it is in. */
async function drive(ctx: LoadContext, corpus: Corpus, users: number): Promise<number> {
  let errors = 0;
  await Promise.all(
    Array.from({ length: users }, async () => {
      while (performance.now() < ctx.deadline) {
        await playConversation(ctx, corpus.next(DEFAULT_MIX)).catch(() => void errors++);
      }
    }),
  );
  return errors;
}

/** Reads every transcript whole and audits it against what was sent and what the agents posted. */
async function auditAll(http: ClusterHttp, logs: LoadContext['logs'], posted: Map<string, string[]>, storedForm: StoredForm): Promise<AuditCounts> {
  const total = emptyCounts();
  let i = 0;
  const worker = async () => {
    while (i < logs.length) {
      const log = logs[i++]!;
      const transcript: Message[] = [];
      for (;;) {
        const r = await http.call('GET', `/api/v1/conversations/${log.id}/messages?after=${transcript.at(-1)?.seq ?? 0}&limit=500`, undefined, { authorization: `Bearer ${log.token}` });
        if (r.status !== 200) throw new Error(`transcript of ${log.id}: ${r.status} ${JSON.stringify(r.body)}`);
        const page = (r.body as { messages: Message[] }).messages;
        transcript.push(...page);
        if (page.length < 500) break;
      }
      addCounts(total, auditConversation(log, transcript, posted.get(log.id), storedForm));
    }
  };
  await Promise.all(Array.from({ length: AUDIT_READERS }, worker));
  return total;
}

/** Calls per Redis command since Redis started (INFO commandstats). */
async function redisCommands(url: string): Promise<Map<string, number>> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return new Map([...(await client.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
  } finally {
    await client.close();
  }
}

/** What Redis did between two readings: the total and the busiest commands, per user message. */
function redisLine(before: Map<string, number>, after: Map<string, number>, messages: number): { perMessage: number; commands: Record<string, number>; line: string } {
  // Less the INFO call that took the first reading.
  const delta = [...after].map(([k, n]) => [k, n - (before.get(k) ?? 0) - (k === 'info' ? 1 : 0)] as const).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const total = delta.reduce((n, [, c]) => n + c, 0);
  const per = (n: number) => (n / Math.max(1, messages)).toFixed(1);
  return { perMessage: total / Math.max(1, messages), commands: Object.fromEntries(delta), line: `${total} commands while measuring, ${per(total)} per user message (${delta.slice(0, 6).map(([k, n]) => `${k} ${per(n)}`).join(', ')}; agents, long polls and sweeps included)` };
}

/** Seconds since `t0`, for the phase line. */
const s = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

/** The knowledge, and the corpus parts: warm-up and measurement never share a text. */
function traffic() {
  const kb = loadKnowledge();
  return { kb, warm: createCorpus({ kb, part: 'warmup', seed: 2 }), corpus: createCorpus({ kb, part: 'measure', seed: 1 }) };
}

function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the start`;
}

async function main(): Promise<number> {
  const started = machine();
  const t = performance.now();
  const profile: Record<string, string> = env.BENCH_CPU_PROF ? { CLUSTER_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}` } : {};
  const starting = startCluster({ CLUSTER_PROXY: 'false', REDIS_PREFIX: PREFIX, LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'error', RATE_LIMIT_MAX: '1000000000', AGENT_LOGIN_RATE_MAX: '1000', ...profile }, 180_000);
  // The corpus is built while the instances start (they run in their own processes).
  let texts: ReturnType<typeof traffic>;
  try {
    texts = traffic();
  } catch (err) {
    await (await starting).stop();
    throw err;
  }
  const { kb, warm, corpus } = texts;
  const cluster = await starting;
  const phases = [`cluster and corpus ready in ${s(t)}`];
  const http = new ClusterHttp(cluster.instances, USERS + AUDIT_READERS);
  const agents: SimulatedAgent[] = [];
  try {
    const stats: AgentStats = { claimed: 0, taken: 0, replies: 0, closed: 0, unanswered: 0, errors: 0 };
    const posted = new Map<string, string[]>();
    for (const [n, account] of (await addAgents(cluster.redisUrl, PREFIX, AGENTS)).entries()) {
      const agent = new SimulatedAgent(cluster.instances[n % 2]!, account, { capacity: CAPACITY, answerTimeoutMs: 20_000, index: n, team: AGENTS, stepInMs: 1_000 }, stats, posted);
      await agent.start();
      agents.push(agent);
    }
    const mask = maskerFor(kb);
    const words = loadHandoffTexts('knowledge');
    const rng = seededRandom(7);
    const logs: LoadContext['logs'] = [];
    const context = (seconds: number, latencies: LatencyHistogram, counts: Record<string, number>, statuses: Map<number, number>, corpus: Corpus): LoadContext => ({
      http, latencies, statuses, logs, counts, deadline: performance.now() + seconds * 1000, agentWaitMs: AGENT_WAIT_S * 1000,
      callback: { button: words.buttons.callback, mobile: () => mobile(rng), slot: words.slots[0]! },
      question: () => corpus.guideTexts[Math.floor(rng() * corpus.guideTexts.length)]!,
      closedText: words.texts.closed,
    });

    if (WARMUP_S) await drive(context(WARMUP_S, new LatencyHistogram(), {}, new Map(), warm), warm, USERS);
    const latencies = new LatencyHistogram();
    const counts: Record<string, number> = {};
    const statuses = new Map<number, number>();
    const measured = logs.length;
    const commandsBefore = await redisCommands(cluster.redisUrl);
    const t0 = performance.now();
    const errors = await drive(context(DURATION_S, latencies, counts, statuses, corpus), corpus, USERS);
    const wallS = (performance.now() - t0) / 1000;
    const redis = redisLine(commandsBefore, await redisCommands(cluster.redisUrl), logs.slice(measured).reduce((n, l) => n + l.sent.length, 0));
    await Promise.all(agents.map((a) => a.stop()));

    const ta = performance.now();
    const audit = await auditAll(http, logs, posted, (t) => mask(t));
    phases.push(`audit in ${s(ta)}`);
    const lat = { count: latencies.count, ...latencies.summary() };
    const rate = lat.count / DURATION_S;
    const kinds = ['guide', 'flow', 'handoff'].map((k) => `${k} ${counts[k] ?? 0}`).join(', ');
    const handoffs = Object.entries(counts).filter(([k]) => k.startsWith('handoff:')).map(([k, v]) => `${k.slice(8)} ${v}`).join(', ');
    console.log(`bench:load — two instances on Redis (${env.CLUSTER_ENTRY === 'dist' ? 'dist/' : 'tsx src/'}), ${USERS} users, ${AGENTS} agents × ${CAPACITY}, ${DURATION_S} s after ${WARMUP_S} s warm-up`);
    console.log(`machine: ${started}`);
    console.log(`phases: ${phases.join(', ')}`);
    console.log(`messages: ${rate.toFixed(0)} msg/s (${lat.count} answered in ${DURATION_S} s; last conversations done after ${wallS.toFixed(1)} s)  p50 ${lat.p50} ms  p90 ${lat.p90} ms  p99 ${lat.p99} ms  max ${lat.max} ms`);
    console.log(`non-2xx: ${statuses.size ? [...statuses].map(([s, n]) => `${s}×${n}`).join(' ') : 'none'}; network errors retried: ${http.networkErrors}; conversations abandoned on an error: ${errors}; scripts the bot did not follow: ${counts.divergences ?? 0}`);
    console.log(`redis: ${redis.line}`);
    console.log(`conversations (measured): ${logs.length - measured} — ${kinds}`);
    console.log(`handoffs: ${handoffs || 'none'}; agents claimed ${stats.claimed}, answered ${stats.replies}, closed ${stats.closed}, claims lost to another agent ${stats.taken}, closed unanswered ${stats.unanswered}, errors ${stats.errors}`);
    console.log(`audit (${audit.conversations} conversations incl. warm-up): sent ${audit.sent}, stored ${audit.stored}, lost ${audit.lost}, duplicated ${audit.duplicated}, seq faults ${audit.seqFaults}, unanswered ${audit.unanswered}, replies not as stored ${audit.replyMismatches}, refused ${audit.refused}; agent lines ${audit.agentSent - audit.agentLost}/${audit.agentSent} stored`);
    for (const f of audit.faults) console.log(`  ✗ ${f}`);
    if (env.BENCH_JSON) writeFileSync(env.BENCH_JSON, JSON.stringify({ machine: started, users: USERS, agents: AGENTS, durationS: DURATION_S, rate, latency: lat, statuses: Object.fromEntries(statuses), errors, counts, agentStats: stats, redis: { perMessage: redis.perMessage, commands: redis.commands }, audit }, null, 2));
    const ok = audit.lost + audit.duplicated + audit.seqFaults + audit.agentLost + audit.replyMismatches + audit.unanswered === 0;
    console.log(ok ? '0 messages lost (every message\'s sequence number accounted for)' : 'FAILED: messages lost, duplicated or out of sequence (see above)');
    return ok ? 0 : 1;
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    http.close();
    await cluster.stop();
    if (env.BENCH_CPU_PROF) console.log(`CPU profiles of the instances: ${PROFILE_DIR}/`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
