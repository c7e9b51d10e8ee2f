import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { AppError, createLogger, type Message } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createAssistant } from '../../src/main.js';
import { createClassifier } from '../../src/nlu/index.js';
import { createMetrics, metricsRoutes, observedClassifier, observeTurn, outcomeCounter, type Metrics } from '../../src/observability/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';

/** The value of one sample in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && (want.length || !have.length || name.endsWith('_count'))) return Number(m[3]);
  }
  return 0;
}

/** A logger whose JSON lines are collected. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', { destination }), lines };
}

interface Script {
  now: string;
  turns: Array<{ user?: string; click?: string }>;
}

let kb: KnowledgeBase;
beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
});

function service(metrics: Metrics, stores: Stores = createMemoryStores(), now?: Date, logger = createLogger('silent')): ConversationService {
  return createConversationService({
    kb, stores, logger,
    classifier: observedClassifier(createClassifier(kb), metrics),
    middleware: { beforeEngine: [outcomeCounter(metrics)] },
    onTurn: observeTurn(metrics),
    ...(now ? { now: () => now } : {}),
  });
}

/** Plays a scripted dialogue (test/conversations format): typed texts and button clicks by title. */
async function play(svc: ConversationService, script: Script): Promise<string> {
  const { conversationId, messages } = await svc.start();
  let last: Message[] = messages;
  for (const t of script.turns) {
    if (t.user !== undefined) last = (await svc.send(conversationId, { text: t.user })).messages;
    else {
      const qr = last.flatMap((m) => m.quickReplies ?? []).find((q) => q.title === t.click);
      expect(qr, `button ${t.click}`).toBeDefined();
      last = (await svc.send(conversationId, { postback: qr!.postback })).messages;
    }
  }
  return conversationId;
}

describe('metrics from the turn pipeline', () => {
  it('counts messages by channel, decisions by kind, turn latency, handoffs by reason and applications by flow', async () => {
    const metrics = createMetrics();
    const script = parse(readFileSync('test/conversations/flow-demolition-happy.yaml', 'utf8')) as Script;
    const svc = service(metrics, createMemoryStores(), new Date(script.now));
    await play(svc, script);
    const { conversationId } = await svc.start();
    await svc.send(conversationId, { text: '水费怎么交' });
    await svc.send(conversationId, { text: '转人工' });

    const text = await metrics.registry.metrics();
    const turns = script.turns.length + 2;
    expect(sample(text, 'wsa_messages_total', { channel: 'web', outcome: 'engine' })).toBe(turns);
    expect(sample(text, 'wsa_turn_duration_seconds_count', { channel: 'web' })).toBe(turns);
    expect(sample(text, 'wsa_applications_total', { flow: 'demolition' })).toBe(1);
    expect(sample(text, 'wsa_handoffs_total', { reason: 'user-request' })).toBe(1);
    expect(sample(text, 'wsa_decisions_total', { kind: 'flow' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'wsa_decisions_total', { kind: 'answer' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'wsa_decisions_total', { kind: 'handoff' })).toBe(1);
  });

  it('counts a turn the store refused as a store error, and a retried message as a duplicate', async () => {
    const metrics = createMetrics();
    const stores = createMemoryStores();
    const svc = service(metrics, stores);
    const { conversationId } = await svc.start();
    await svc.send(conversationId, { text: '水费怎么交' }, { clientMessageId: 'c-1' });
    await svc.send(conversationId, { text: '水费怎么交' }, { clientMessageId: 'c-1' });
    const commit = stores.commitTurn.bind(stores);
    stores.commitTurn = async () => {
      throw new AppError('STORE_UNAVAILABLE');
    };
    await expect(svc.send(conversationId, { text: '停水了' })).rejects.toThrow();
    stores.commitTurn = commit;
    const text = await metrics.registry.metrics();
    expect(sample(text, 'wsa_messages_total', { channel: 'web', outcome: 'duplicate' })).toBe(1);
    expect(sample(text, 'wsa_messages_total', { channel: 'web', outcome: 'STORE_UNAVAILABLE' })).toBe(1);
    expect(sample(text, 'wsa_store_errors_total', { operation: 'turn' })).toBe(1);
    // The refused turn committed nothing, so it counted no application or handoff either.
    expect(text).not.toMatch(/^wsa_handoffs_total\{/m);
  });

  it('sets the queue gauges and counts CSAT and queue waits the handoff module reports', async () => {
    const metrics = createMetrics();
    metrics.queue({ length: 3, oldestWaitSeconds: 42 });
    metrics.queueWait(30);
    metrics.csat(5);
    metrics.csat(2);
    metrics.csat(9); // not a rating: ignored
    const text = await metrics.registry.metrics();
    expect(sample(text, 'wsa_handoff_queue_length')).toBe(3);
    expect(sample(text, 'wsa_handoff_queue_oldest_wait_seconds')).toBe(42);
    expect(sample(text, 'wsa_handoff_wait_seconds_count')).toBe(1);
    expect(sample(text, 'wsa_csat_ratings_total', { score: '5' })).toBe(1);
    expect(sample(text, 'wsa_csat_ratings_total', { score: '2' })).toBe(1);
    expect(text).not.toMatch(/score="9"/);
  });
});

describe('turn logs', () => {
  it('carry the conversation id and the turn id on every line of a turn, and no personal number', async () => {
    const { logger, lines } = capturingLogger();
    const script = parse(readFileSync('test/conversations/flow-demolition-happy.yaml', 'utf8')) as Script;
    const svc = service(createMetrics(), createMemoryStores(), new Date(script.now), logger);
    const id = await play(svc, script);
    const turnLines = lines.filter((l) => l.msg !== 'conversation started');
    expect(turnLines.filter((l) => l.msg === 'turn').length).toBe(script.turns.length);
    expect(turnLines.some((l) => l.msg === 'application submitted')).toBe(true);
    for (const l of turnLines) {
      expect(l.conversationId, JSON.stringify(l)).toBe(id);
      expect(l.turnId, JSON.stringify(l)).toMatch(/^[0-9a-f-]{36}$/);
    }
    const all = JSON.stringify(lines);
    for (const raw of ['420111197808150015', '15071234567', '1004567890']) expect(all).not.toContain(raw);
  });
});

describe('/metrics', () => {
  it('on the main port needs METRICS_TOKEN and answers in the Prometheus format', async () => {
    const token = 'metrics-token-0123456789';
    const config = loadConfig({ STORE: 'memory', METRICS_TOKEN: token, KNOWLEDGE_WATCH: 'false', RATE_LIMIT_MAX: '1000' });
    const metrics = createMetrics();
    const assistant = await createAssistant(config, createLogger('silent'), metrics);
    const app = await buildServer({ service: assistant.service, stores: assistant.stores, logger: assistant.logger });
    await app.register(metricsRoutes, { registry: metrics.registry, token: config.METRICS_TOKEN });
    try {
      const created = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload: {} });
      const { conversationId, token: conv } = created.json() as { conversationId: string; token: string };
      await app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/messages`, headers: { authorization: `Bearer ${conv}` }, payload: { text: '水费怎么交' } });
      expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
      expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);
      const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(sample(res.body, 'wsa_messages_total', { channel: 'web', outcome: 'engine' })).toBe(1);
      expect(sample(res.body, 'wsa_decisions_total', { kind: 'answer' })).toBe(1);
    } finally {
      await app.close();
      await assistant.bus.close();
      await assistant.stores.close();
    }
  });
});
