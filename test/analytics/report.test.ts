import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsRoutes, buildReport, clusterTexts, describeTurn, unansweredCsv, type AnalyticsReport } from '../../src/analytics/index.js';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { initialState, step, type DialogueState } from '../../src/dialogue/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, createSqliteStores, type Stores } from '../../src/store/index.js';
import { consoleWith, injectLogin } from '../helpers/console.js';
import { loadScriptedDay, playScriptedDay, type ScriptedDay } from './scripted-day.js';

const day = loadScriptedDay();
let kb: KnowledgeBase;
let classifier: Classifier;

beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});

const byId = (list: Array<{ id: string; count: number }>) => Object.fromEntries(list.map((c) => [c.id, c.count]));

/** Checks a report against the script's hand-counted expectations. */
export function expectScripted(r: AnalyticsReport, e: ScriptedDay['expect']): void {
  expect(r.conversations).toBe(e.conversations);
  expect(r.containment.contained).toBe(e.contained);
  expect(r.containment.rate).toBeCloseTo(e.contained / e.conversations, 3);
  expect(r.rates).toMatchObject({ botTurns: e.botTurns, clarify: e.clarify, fallback: e.fallback, noneOfThese: e.noneOfThese });
  expect(byId(r.topItems)).toEqual(e.topItems);
  expect(Object.fromEntries(r.containment.byItem.map((c) => [c.id, c.rate]))).toEqual(e.containmentByItem);
  expect(byId(r.handoffReasons)).toEqual(e.handoffReasons);
  const { average, ...items } = e.csat;
  expect(r.csat.average).toBe(average);
  expect(Object.fromEntries(r.csat.byItem.map((c) => [c.id, c.average]))).toEqual(items);
  expect(byId(r.applications)).toEqual(e.applications);
  expect(Object.fromEntries(r.funnel.map((f) => [f.flowId, { started: f.started, submitted: f.submitted, abandoned: Object.fromEntries(f.steps.map((s) => [s.step, s.abandoned])) }]))).toEqual(e.funnel);
  expect(Object.fromEntries(r.daily.map((d) => [d.day, { items: byId(d.items), flows: byId(d.flows) }]))).toEqual(e.daily);
  expect(r.unanswered.map(({ label, count, fallback, noneOfThese }) => ({ label, count, fallback, noneOfThese }))).toEqual(e.unanswered);
}

for (const backend of ['memory', 'sqlite'] as const) {
  describe(`analytics of a scripted day (${backend})`, () => {
    let dir = '';
    let stores: Stores;
    let app: FastifyInstance;
    let agent: Record<string, string>;
    let admin: Record<string, string>;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'wsa-an-'));
      stores = backend === 'memory' ? createMemoryStores() : createSqliteStores({ dataDir: dir });
      const service = await playScriptedDay(day, { kb, classifier, stores });
      const desk = await consoleWith({ kb, classifier, stores, routes: [analyticsRoutes({ events: stores.events, knowledge: () => kb, now: () => new Date('2026-09-30T12:00:00Z') })] });
      await desk.addAgent('an.agent');
      await desk.addAgent('an.admin', 'admin');
      app = await buildServer({ service, stores, logger: createLogger('silent'), plugins: [desk.plugin] });
      await app.ready();
      agent = await injectLogin(app, 'an.agent');
      admin = await injectLogin(app, 'an.admin');
    });
    afterAll(async () => {
      await app.close();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const get = (url: string, who: Record<string, string> | null = agent) => app.inject({ method: 'GET', url, headers: who ?? {} });

    it('writes one event per committed turn, with masked texts only', async () => {
      const events = await stores.events.list();
      const turns = day.conversations.flatMap((c) => c.turns).filter((t) => !('rating' in t)).length;
      expect(events.filter((e) => e.kind === 'turn')).toHaveLength(turns);
      expect(events.filter((e) => e.kind === 'rating')).toHaveLength(2);
      const all = JSON.stringify(events);
      expect(all).not.toContain('420111197808150015');
      expect(all).not.toContain('15071234567');
      expect(events.find((e) => e.conversationId === 'telegram:c3')?.channel).toBe('telegram');
    });

    it('reports the numbers the script produces', async () => {
      const res = await get(`/api/v1/analytics/report?from=${day.expect.from}&to=${day.expect.to}`);
      expect(res.statusCode, res.body).toBe(200);
      const r = res.json() as AnalyticsReport;
      expectScripted(r, day.expect);
      expect(r.funnel.find((f) => f.flowId === 'buy-house')?.title).toBe(kb.flows.get('buy-house')!.title);
      // The parts are the report's own pieces.
      expect((await get(`/api/v1/analytics/handoffs?from=${day.expect.from}&to=${day.expect.to}`)).json()).toEqual(r.handoffReasons);
      expect((await get(`/api/v1/analytics/nothing`)).statusCode).toBe(404);
      // A range that holds only the second day.
      const second = (await get(`/api/v1/analytics/report?from=${day.expect.to}&to=${day.expect.to}`)).json() as AnalyticsReport;
      expect(second.conversations).toBe(2);
    });

    it('exports the unanswered questions as CSV', async () => {
      const res = await get(`/api/v1/analytics/unanswered.csv?from=${day.expect.from}&to=${day.expect.to}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const lines = res.body.replace(/^\uFEFF/, '').trim().split('\r\n');
      expect(lines[0]).toBe('count,question,fallback,none_of_these,examples,last_at');
      expect(lines[1]).toMatch(/^2,阿巴阿巴,2,0,阿巴阿巴,2026-09-30T/);
      expect(lines).toHaveLength(1 + day.expect.unanswered.length);
    });

    it('serves agents and admins logged into the console, refuses without a session, and a bad range', async () => {
      const none = await get('/api/v1/analytics/report', null);
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe('AGENT_LOGIN_REQUIRED');
      // A session cookie not made with the console's key is no session.
      expect((await get('/api/v1/analytics/report', { cookie: 'wsa_agent=forged-value' })).json().error.code).toBe('AGENT_LOGIN_REQUIRED');
      expect((await get('/api/v1/analytics/report', admin)).statusCode).toBe(200);
      expect((await get('/api/v1/analytics/report?from=2026-13-01')).statusCode).toBe(400);
      expect((await get('/api/v1/analytics/report?from=2026-09-30&to=2026-09-01')).statusCode).toBe(400);
      const page = await get('/agent/analytics', null);
      expect(page.statusCode).toBe(401);
      expect(page.body).toContain('href="/agent"');
      // The admin token of earlier versions opens nothing.
      expect((await get('/agent/analytics?token=analytics-admin-token-0123456789', null)).statusCode).toBe(401);
      for (const who of [agent, admin]) {
        const res = await get('/agent/analytics', who);
        expect(res.statusCode).toBe(200);
        expect(res.body).toContain('知识库运营分析');
      }
      // Logged out: the same cookie is refused.
      const leaving = await injectLogin(app, 'an.agent');
      expect((await app.inject({ method: 'POST', url: '/api/v1/agent/logout', headers: leaving })).statusCode).toBe(200);
      expect((await get('/api/v1/analytics/report', leaving)).statusCode).toBe(401);
    });
  });
}

describe('a single item\'s own application in the funnel', () => {
  it('is named by its item and its questions, like a 一件事', async () => {
    const stores = createMemoryStores();
    const turns = [{ user: '发票怎么开' }, { click: '我要办理：水费发票开具' }, { user: '1002345678' }];
    await playScriptedDay({ conversations: [{ id: 'a1', channel: 'web', start: '2026-09-29T01:00:00Z', turns }], expect: day.expect }, { kb, classifier, stores });
    const desk = await consoleWith({ kb, classifier, stores, routes: [analyticsRoutes({ events: stores.events, knowledge: () => kb, now: () => new Date('2026-09-30T12:00:00Z') })] });
    await desk.addAgent('an.agent');
    const app = await buildServer({ service: createConversationService({ kb, classifier, stores, logger: createLogger('silent') }), stores, logger: createLogger('silent'), plugins: [desk.plugin] });
    const r = (await app.inject({ method: 'GET', url: '/api/v1/analytics/report?from=2026-09-29&to=2026-09-29', headers: await injectLogin(app, 'an.agent') })).json() as AnalyticsReport;
    const flow = kb.applications.get('invoice')!;
    // Left after the account number, idle past the limit: abandoned at the second question.
    expect(r.funnel).toEqual([{ flowId: 'apply-invoice', title: flow.title, started: 1, submitted: 0, abandoned: 1, steps: [{ step: flow.questions[1]!.id, label: flow.questions[1]!.label, abandoned: 1 }] }]);
    await app.close();
    await stores.close();
  });
});

describe('report pieces', () => {
  it('groups similar texts by bigram overlap and keeps different ones apart', () => {
    const groups = clusterTexts(['家里停水了', '家里停水了怎么办', '我家停水了', '发票怎么开', '发票怎么开具', '阿巴'], (t) => t);
    expect(groups.map((g) => [g.label, g.count])).toEqual([
      ['家里停水了', 3],
      ['发票怎么开', 2],
      ['阿巴', 1],
    ]);
  });

  it('counts a flow still open after the idle time as left at its step', () => {
    const at = '2026-09-29T01:00:00.000Z';
    const ev = (data: Record<string, unknown>) => ({ kind: 'turn' as const, at, day: '2026-09-29', conversationId: 'x', channel: 'web', data });
    const events = [ev({ decision: 'flow-start', flowId: 'buy-house', flowStep: 'accountNumber' })];
    expect(buildReport(events, { now: new Date('2026-09-29T01:10:00Z') }).funnel[0]!.abandoned).toBe(0);
    expect(buildReport(events, { now: new Date('2026-09-29T02:00:00Z') }).funnel[0]!.steps).toEqual([{ step: 'accountNumber', abandoned: 1 }]);
  });

  it('describes turns from the state before and after', () => {
    const s = initialState();
    expect(describeTurn(s, { ...s, fallbacks: 1 }, { handled: 'engine', applications: [], input: { text: 'x' } }, []).decision).toBe('fallback');
    expect(describeTurn(s, { ...s, mode: 'handoff', handoffReason: 'urgent' }, { handled: 'engine', applications: [], input: { text: 'x' } }, [])).toEqual({ decision: 'handoff', handoffReason: 'urgent' });
    expect(describeTurn(s, s, { handled: 'agent', applications: [], input: { text: 'x' } }, []).decision).toBe('agent');
  });

  it('keeps an application handed to a person open, and counts its resumption as the same flow, not a new start', () => {
    const ctx = { kb, classifier, now: new Date('2026-09-29T01:00:00Z'), conversationId: 'x' };
    let s: DialogueState = initialState();
    const events = [];
    for (const input of [{ text: '买房后用水一件事怎么办' }, { text: '1002345678' }, { text: '转人工' }, { postback: 'resume' }] as Array<{ text: string } | { postback: string }>) {
      const r = step(ctx, s, 'text' in input ? { kind: 'text', text: input.text } : { kind: 'postback', payload: input.postback });
      const data = describeTurn(s, r.state, { handled: 'engine', applications: [], input }, r.replies);
      events.push({ kind: 'turn' as const, at: ctx.now.toISOString(), day: '2026-09-29', conversationId: 'x', channel: 'web', data: { ...data } });
      s = r.state;
    }
    expect(events.map((e) => e.data.decision)).toEqual(['flow-start', 'flow-step', 'handoff', 'flow-step']);
    expect(events[2]!.data).toMatchObject({ handoffReason: 'user-request', flowId: 'buy-house', flowStep: 'ownerName' });
    expect(events.some((e) => 'abandonedFlow' in e.data)).toBe(false);
    expect(s).toMatchObject({ mode: 'flow', flow: { id: 'buy-house', questionId: 'ownerName' } });
    const f = buildReport(events, { now: new Date('2026-09-29T01:10:00Z') }).funnel;
    expect(f.map(({ flowId, started, abandoned }) => ({ flowId, started, abandoned }))).toEqual([{ flowId: 'buy-house', started: 1, abandoned: 0 }]);
  });

  it('writes CSV cells a spreadsheet cannot run', () => {
    const csv = unansweredCsv([{ label: '=HYPERLINK("x")', count: 1, fallback: 1, noneOfThese: 0, examples: ['a,b'], lastAt: 't' }]);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain('"a,b"');
  });
});
