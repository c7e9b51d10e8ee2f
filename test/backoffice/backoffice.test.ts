import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backofficeRoutes, createDispatcher, outboxAdminRoutes, signedHeaders, type Dispatcher } from '../../src/backoffice/index.js';
import { createTelegramChannel, type TelegramChannel } from '../../src/channels/telegram/index.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, createSqliteStores, type Stores } from '../../src/store/index.js';
import { FakeTelegramApi, type TelegramCall } from '../fakes/telegram-api.js';
import { consoleWith, injectLogin } from '../helpers/console.js';
import { FakeBackoffice } from './fake-backoffice.js';

const SECRET = 'backoffice-shared-secret-0123456789';
const HOOK_SECRET = 'webhook-secret-of-the-tests_0123456789';
const NOW = new Date('2026-09-30T02:00:00Z');
const CHAT = 9001;
const MOBILE = '15071234567';
const ID_NUMBER = '420111197808150015';
const logger = createLogger('silent');

let kb: KnowledgeBase;
let classifier: Classifier;
let nextUpdate = 5000;

type Button = { text: string; callback_data: string };
const keyboard = (call: TelegramCall): Button[] => ((call.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();
const textOf = (call: TelegramCall) => String(call.body.text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});

for (const backend of ['memory', 'sqlite'] as const) {
  describe(`back office hand-over (${backend})`, () => {
    let dir = '';
    let stores: Stores;
    let service: ConversationService;
    let api: FakeTelegramApi;
    let channel: TelegramChannel;
    let app: FastifyInstance;
    let office: FakeBackoffice;
    const dispatchers: Dispatcher[] = [];

    const dispatcher = (over: Partial<Parameters<typeof createDispatcher>[0]> = {}) => {
      const d = createDispatcher({ outbox: stores.outbox, applications: stores.applications, logger, url: office.url, secret: SECRET, maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 100, intervalMs: 5, ...over });
      dispatchers.push(d);
      return d;
    };

    async function exchange(update: object): Promise<string> {
      const before = api.sent().length;
      const res = await app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': HOOK_SECRET }, payload: update });
      expect(res.statusCode, res.body).toBe(200);
      return api.sent().slice(before).map(textOf).join('\n');
    }
    const say = (text: string) => exchange({ update_id: ++nextUpdate, message: { message_id: nextUpdate, date: 1_790_000_000, chat: { id: CHAT, type: 'private', first_name: '测试' }, from: { id: CHAT, is_bot: false, first_name: '测试' }, text } });
    async function press(title: string): Promise<string> {
      const last = [...api.sent()].reverse().find((c) => Number(c.body.chat_id) === CHAT && keyboard(c).length);
      const button = last && keyboard(last).find((b) => b.text === title);
      expect(button, `button ${title}`).toBeDefined();
      const id = ++nextUpdate;
      return exchange({ update_id: id, callback_query: { id: `cq-${id}`, chat_instance: 'ci', data: button!.callback_data, from: { id: CHAT, is_bot: false, first_name: '测试' }, message: { message_id: 1, date: 1_790_000_000, chat: { id: CHAT, type: 'private', first_name: '测试' }, text: '…' } } });
    }

    /** The scripted demolition flow on Telegram, to its reference number. */
    async function submitApplication(): Promise<string> {
      await say('我家被征收了，水费怎么结清、水表怎么销，帮我一起办');
      await say('1004567890');
      await say('陈建国');
      await say(ID_NUMBER);
      await say(MOBILE);
      await press('是');
      await press('否');
      await say('10月8日');
      const done = await press('确认提交');
      const ref = /WS\d{8}-\d{4}/.exec(done)?.[0];
      expect(ref, done).toBeDefined();
      return ref!;
    }

    function postStatus(ref: string, body: object | string, headers?: Record<string, string>) {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      return app.inject({ method: 'POST', url: `/api/v1/backoffice/applications/${ref}/status`, headers: { 'content-type': 'application/json', ...(headers ?? signedHeaders(SECRET, payload)) }, payload });
    }

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'wsa-bo-'));
      stores = backend === 'memory' ? createMemoryStores() : createSqliteStores({ dataDir: dir });
      api = await new FakeTelegramApi().listen();
      office = await new FakeBackoffice(SECRET).listen();
      service = createConversationService({ kb, classifier, stores, logger, now: () => NOW, channels: { get: (n) => (n === 'telegram' ? channel : undefined) } });
      channel = createTelegramChannel({ service, token: api.token, webhookSecret: HOOK_SECRET, apiRoot: api.url, mode: 'webhook', logger, stores });
      const desk = await consoleWith({ kb, classifier, stores, routes: [outboxAdminRoutes({ stores })] });
      await desk.addAgent('bo.agent');
      await desk.addAgent('bo.admin', 'admin');
      app = await buildServer({ service, stores, logger, plugins: [desk.plugin] });
      await app.register(backofficeRoutes, { stores, service, logger, secret: SECRET });
      await channel.register!(app);
      await app.ready();
    });

    afterEach(async () => {
      await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
      await channel.stop?.();
      await app.close();
      await api.close();
      await office.close();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('delivers an application submitted in chat exactly once, signed, after two failed tries, with two dispatchers running', async () => {
      office.failFirst = 2;
      const ref = await submitApplication();
      const [entry] = (await stores.outbox.claim('peek', 0, 10)) ?? [];
      expect(entry).toMatchObject({ kind: 'application', payload: { ref, flowId: 'demolition' }, attempts: 0 });
      // Two instances poll the same outbox.
      dispatcher({ owner: 'instance-a' }).start();
      dispatcher({ owner: 'instance-b' }).start();
      await until('the delivery', () => office.accepted().length === 1);
      await until('the outbox to empty', async () => (await stores.outbox.counts()).pending === 0);
      await sleep(200);
      expect(office.calls.map((c) => c.status)).toEqual([500, 500, 200]);
      expect(office.calls.map((c) => c.json.attempt)).toEqual([1, 2, 3]);
      expect(office.calls.every((c) => c.signatureError === null)).toBe(true);
      expect(new Set(office.calls.map((c) => c.json.id))).toEqual(new Set([entry!.id]));
      const delivered = office.accepted()[0]!;
      expect(delivered.headers['idempotency-key']).toBe(entry!.id);
      expect(delivered.json.kind).toBe('application');
      // The utility's system gets the whole record, raw numbers included, to act on it.
      expect(delivered.json.data).toMatchObject({ ref, flowId: 'demolition', status: 'submitted', mobile: MOBILE, conversationId: `telegram:${CHAT}` });
      expect(JSON.stringify(delivered.json.data)).toContain(ID_NUMBER);
      expect(await stores.outbox.counts()).toEqual({ pending: 0, dead: 0 });
    });

    it('moves an entry to the dead-letter list after the maximum of attempts, lists it to the admin, and replays it', async () => {
      office.status = 503;
      const ref = await submitApplication();
      const d = dispatcher({ maxAttempts: 3 });
      d.start();
      await until('the dead letter', async () => (await stores.outbox.counts()).dead === 1);
      await sleep(100);
      expect(office.calls.map((c) => c.status)).toEqual([503, 503, 503]);

      // Behind the console login, admins only: 401 without a session, 403 for an agent.
      const anonymous = await app.inject({ method: 'GET', url: '/api/v1/backoffice/outbox' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('AGENT_LOGIN_REQUIRED');
      const agent = await injectLogin(app, 'bo.agent');
      const admin = await injectLogin(app, 'bo.admin');
      const refused = await app.inject({ method: 'GET', url: '/api/v1/backoffice/outbox', headers: agent });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('ADMIN_REQUIRED');
      const listed = await app.inject({ method: 'GET', url: '/api/v1/backoffice/outbox', headers: admin });
      expect(listed.statusCode).toBe(200);
      const body = listed.json() as { counts: { pending: number; dead: number }; entries: Array<{ id: string; attempts: number; lastError: string; payload: { ref: string } }> };
      expect(body.counts).toEqual({ pending: 0, dead: 1 });
      expect(body.entries).toHaveLength(1);
      expect(body.entries[0]).toMatchObject({ attempts: 3, lastError: 'HTTP 503', payload: { ref } });
      // The outbox holds the reference, not the applicant's numbers.
      expect(listed.body).not.toContain(MOBILE);

      office.status = undefined;
      const id = body.entries[0]!.id;
      const replayUrl = `/api/v1/backoffice/outbox/${encodeURIComponent(id)}/replay`;
      expect((await app.inject({ method: 'POST', url: replayUrl })).json().error.code).toBe('AGENT_LOGIN_REQUIRED');
      const byAgent = await app.inject({ method: 'POST', url: replayUrl, headers: agent });
      expect(byAgent.statusCode).toBe(403);
      expect(byAgent.json().error.code).toBe('ADMIN_REQUIRED');
      // The admin's session without its CSRF token replays nothing either.
      const noCsrf = await app.inject({ method: 'POST', url: replayUrl, headers: { cookie: admin.cookie } });
      expect(noCsrf.statusCode).toBe(403);
      expect(noCsrf.json().error.code).toBe('CSRF_INVALID');
      expect(await stores.outbox.counts()).toEqual({ pending: 0, dead: 1 });
      const replay = await app.inject({ method: 'POST', url: replayUrl, headers: admin });
      expect(replay.json()).toEqual({ id, replayed: true });
      await until('the replayed delivery', () => office.accepted().length === 1);
      expect(office.accepted()[0]!.json).toMatchObject({ id, attempt: 1, data: { ref } });
      await until('the outbox to empty', async () => (await stores.outbox.counts()).pending === 0);
      const again = await app.inject({ method: 'POST', url: replayUrl, headers: admin });
      expect(again.statusCode).toBe(404);
      expect(again.json().error.code).toBe('OUTBOX_ENTRY_NOT_FOUND');
    });

    it('gives up at once when the back office refuses the request itself (a wrong secret: 401)', async () => {
      await submitApplication();
      const d = dispatcher({ secret: 'not-the-shared-secret-0123456789' });
      d.start();
      await until('the dead letter', async () => (await stores.outbox.counts()).dead === 1);
      expect(office.calls).toHaveLength(1);
      expect(office.calls[0]!.signatureError).toBe('signature mismatch');
      expect((await stores.outbox.dead())[0]).toMatchObject({ attempts: 1, lastError: 'HTTP 401' });
    });

    it('takes a signed status update: the progress query and the API show it, and the resident is told on Telegram once', async () => {
      const ref = await submitApplication();
      const sentBefore = api.sent().length;
      const res = await postStatus(ref, { status: 'accepted', note: '已派工程师，请保持电话畅通' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ ref, status: 'accepted', changed: true, notified: true });
      const told = api.sent().slice(sentBefore);
      expect(told).toHaveLength(1);
      expect(Number(told[0]!.body.chat_id)).toBe(CHAT);
      expect(textOf(told[0]!)).toContain(ref);
      expect(textOf(told[0]!)).toContain('已受理，办理中');
      expect(textOf(told[0]!)).toContain('已派工程师');
      const transcript = await service.history(`telegram:${CHAT}`);
      expect(transcript.at(-1)).toMatchObject({ from: 'system' });

      const api1 = await app.inject({ method: 'GET', url: `/api/v1/applications/${ref}?mobile=${MOBILE}` });
      expect(api1.json()).toMatchObject({ ref, status: 'accepted', statusNote: '已派工程师，请保持电话畅通' });
      await say(ref);
      expect(await say(MOBILE)).toContain('已受理，办理中');

      // The same update again changes nothing and tells nobody.
      const before2 = api.sent().length;
      const same = await postStatus(ref, { status: 'accepted', note: '已派工程师，请保持电话畅通' });
      expect(same.json()).toMatchObject({ changed: false, notified: false });
      expect(api.sent().length).toBe(before2);
      const done = await postStatus(ref.toLowerCase(), { status: 'completed' });
      expect(done.json()).toMatchObject({ status: 'completed', changed: true, notified: true });
      expect(textOf(api.sent().at(-1)!)).toContain('已办结');
    });

    it('refuses bad, stale and tampered signatures with 401 and bad bodies with 400, changing nothing', async () => {
      const ref = await submitApplication();
      const body = JSON.stringify({ status: 'cancelled' });
      const good = signedHeaders(SECRET, body);
      const cases: Array<[string, Record<string, string>, string]> = [
        ['no headers', {}, body],
        ['wrong secret', signedHeaders('another-secret-0123456789abcdef', body), body],
        ['stale', signedHeaders(SECRET, body, Date.now() - 10 * 60_000), body],
        ['future', signedHeaders(SECRET, body, Date.now() + 10 * 60_000), body],
        ['tampered body', good, JSON.stringify({ status: 'completed' })],
        ['malformed signature', { ...good, 'x-signature': 'zz' }, body],
      ];
      for (const [label, headers, payload] of cases) {
        const res = await postStatus(ref, payload, headers);
        expect(res.statusCode, label).toBe(401);
        expect(res.json().error.code, label).toBe('BAD_SIGNATURE');
      }
      expect((await postStatus(ref, { status: 'lost' })).statusCode).toBe(400);
      expect((await postStatus(ref, '{"status":')).statusCode).toBe(400);
      expect((await postStatus('WS20260930-9999', { status: 'accepted' })).json().error.code).toBe('APPLICATION_NOT_FOUND');
      expect((await stores.applications.get(ref))?.status).toBe('submitted');
    });
  });
}

describe('a status update of a web conversation', () => {
  it('is stored and shown by the lookup, without a push', async () => {
    const stores = createMemoryStores();
    const service = createConversationService({ kb, classifier, stores, logger, now: () => NOW });
    const app = await buildServer({ service, stores, logger });
    await app.register(backofficeRoutes, { stores, service, logger, secret: SECRET });
    await app.ready();
    const app1 = { ref: 'WS20260930-0042', flowId: 'demolition', title: '征收销户', conversationId: 'web-conv', answers: {}, fields: [], items: [], checklist: [], mobile: MOBILE, status: 'submitted' as const, submittedAt: NOW.toISOString(), dueDate: '2026-10-09', timeLimit: { value: 5, unit: '工作日' as const }, nextSteps: [] };
    await stores.applications.save(app1);
    const payload = JSON.stringify({ status: 'accepted' });
    const res = await app.inject({ method: 'POST', url: `/api/v1/backoffice/applications/${app1.ref}/status`, headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, payload) }, payload });
    expect(res.json()).toEqual({ ref: app1.ref, status: 'accepted', changed: true, notified: false });
    expect((await app.inject({ method: 'GET', url: `/api/v1/applications/${app1.ref}?mobile=${MOBILE}` })).json().status).toBe('accepted');
    // Without an admin token the outbox routes do not exist.
    expect((await app.inject({ method: 'GET', url: '/api/v1/backoffice/outbox' })).statusCode).toBe(404);
    await app.close();
    await stores.close();
  });
});
