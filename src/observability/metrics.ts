import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Metric names start with this. */
export const METRIC_PREFIX = 'wsa_';

/** The assistant's metrics, with one typed method per thing measured (other areas call these, never prom-client). */
export interface Metrics {
  /** The Prometheus registry behind them (the /metrics route serialises it). */
  readonly registry: Registry;
  /** One user message handled; `outcome` is how the turn ended (engine, agent, duplicate, or an error code). */
  message(channel: string, outcome: string): void;
  /** One classifier decision (answer, clarify, flow, handoff, smalltalk, fallback). */
  decision(kind: string): void;
  /** A whole turn's duration, lock to publish. */
  turnLatency(channel: string, seconds: number): void;
  /** A conversation handed to a person, by reason (user-request, urgent, repeated-fallback, …). */
  handoff(reason: string): void;
  /** The handoff queue now: conversations waiting, and how long the oldest has waited. */
  queue(state: { length: number; oldestWaitSeconds: number }): void;
  /** How long a conversation waited before an agent claimed it. */
  queueWait(seconds: number): void;
  /** One satisfaction rating, 1–5. */
  csat(score: number): void;
  /** One application submitted through a flow. */
  application(flowId: string): void;
  /** One failed store operation (a turn refused with STORE_UNAVAILABLE, a failed readiness probe, …). */
  storeError(operation: string): void;
  /** One knowledge reload, applied or refused. */
  knowledgeReload(outcome: 'applied' | 'refused'): void;
  /** Where messages were understood: the classifier workers' counts since start, read at each scrape (null: no workers). */
  classifierPool(stats: (() => { served: number; declined: number }) | null): void;
}

/** Creates the metrics on their own registry; `defaults` adds process metrics (CPU, memory, event-loop lag). */
export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  const p = METRIC_PREFIX;
  const registers = [registry];
  if (opts.defaults) collectDefaultMetrics({ register: registry, prefix: p });
  const messages = new Counter({ name: `${p}messages_total`, help: 'User messages handled, by channel and outcome', labelNames: ['channel', 'outcome'], registers });
  const decisions = new Counter({ name: `${p}decisions_total`, help: 'Classifier decisions, by kind', labelNames: ['kind'], registers });
  const latency = new Histogram({ name: `${p}turn_duration_seconds`, help: 'Turn latency, lock to publish', labelNames: ['channel'], buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
  const handoffs = new Counter({ name: `${p}handoffs_total`, help: 'Conversations handed to a person, by reason', labelNames: ['reason'], registers });
  const queueLength = new Gauge({ name: `${p}handoff_queue_length`, help: 'Conversations waiting for an agent', registers });
  const queueOldest = new Gauge({ name: `${p}handoff_queue_oldest_wait_seconds`, help: 'How long the longest-waiting conversation has waited', registers });
  const queueWait = new Histogram({ name: `${p}handoff_wait_seconds`, help: 'Wait from handoff to an agent claiming it', buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 3600], registers });
  const csat = new Counter({ name: `${p}csat_ratings_total`, help: 'Satisfaction ratings, by score 1-5', labelNames: ['score'], registers });
  const applications = new Counter({ name: `${p}applications_total`, help: 'Applications submitted, by flow', labelNames: ['flow'], registers });
  const storeErrors = new Counter({ name: `${p}store_errors_total`, help: 'Failed store operations, by operation', labelNames: ['operation'], registers });
  const reloads = new Counter({ name: `${p}knowledge_reloads_total`, help: 'Knowledge reloads, applied or refused', labelNames: ['outcome'], registers });
  let poolStats: (() => { served: number; declined: number }) | null = null;
  new Gauge({
    name: `${p}nlu_worker_messages`,
    help: 'Messages understood by the classifier workers (served) or left to the event loop because they were busy, starting or on other knowledge (declined), since start',
    labelNames: ['outcome'],
    registers,
    collect() {
      if (!poolStats) return;
      const s = poolStats();
      this.set({ outcome: 'served' }, s.served);
      this.set({ outcome: 'declined' }, s.declined);
    },
  });
  const label = (s: string) => (s || 'unknown').slice(0, 64);
  return {
    registry,
    message: (channel, outcome) => messages.inc({ channel: label(channel), outcome: label(outcome) }),
    decision: (kind) => decisions.inc({ kind: label(kind) }),
    turnLatency: (channel, seconds) => latency.observe({ channel: label(channel) }, seconds),
    handoff: (reason) => handoffs.inc({ reason: label(reason) }),
    queue: ({ length, oldestWaitSeconds }) => {
      queueLength.set(length);
      queueOldest.set(oldestWaitSeconds);
    },
    queueWait: (seconds) => queueWait.observe(seconds),
    csat: (score) => {
      if (Number.isInteger(score) && score >= 1 && score <= 5) csat.inc({ score: String(score) });
    },
    application: (flowId) => applications.inc({ flow: label(flowId) }),
    storeError: (operation) => storeErrors.inc({ operation: label(operation) }),
    knowledgeReload: (outcome) => reloads.inc({ outcome }),
    classifierPool: (stats) => {
      poolStats = stats;
    },
  };
}

/** The process-wide metrics: the handoff module sets the queue gauges and counts CSAT here. */
export const metrics: Metrics = createMetrics({ defaults: true });
