import { deleteKeys, redisSuite } from '../helpers/redis.js';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationService, maskerFor } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, createRedisStores, type Stores } from '../../src/store/index.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-test-flow-${process.pid}-${randomUUID().slice(0, 8)}`;

type Input = { text: string } | { postback: string };
type Sent = { messages: Message[]; state: { mode: string; itemId?: string; flowId?: string; applicationRef?: string } };


/** Deletes every key under the test prefix. */
const deletePrefix = () => deleteKeys(url, prefix);

/** Completes 17 digits with the GB 11643 check character. */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}

const suite = await redisSuite('API on Redis stores', url, prefix);

suite('API on Redis stores', () => {
  let kb: KnowledgeBase;
  let classifier: Classifier;
  const instances: { app: FastifyInstance; stores: Stores; closed: boolean }[] = [];

  /** An app on its own Redis connection with the shared test prefix (like a separate process). */
  async function instance(): Promise<(typeof instances)[number]> {
    const stores = await createRedisStores(url, { prefix });
    const logger = createLogger('silent');
    const service = createConversationService({ kb, classifier, stores, logger });
    const app = await buildServer({ service, stores, logger });
    const it = { app, stores, closed: false };
    instances.push(it);
    return it;
  }

  async function shutdown(it: (typeof instances)[number]): Promise<void> {
    it.closed = true;
    await it.app.close();
    await it.stores.close();
  }

  async function start(app: FastifyInstance): Promise<{ conversationId: string; messages: Message[] }> {
    const res = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload: {} });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    tokens.set(body.conversationId, body.token);
    return body;
  }

  /** Conversation tokens by id: any instance accepts them, since they live in the shared store. */
  const tokens = new Map<string, string>();
  const auth = (id: string) => ({ authorization: `Bearer ${tokens.get(id)}` });

  async function send(app: FastifyInstance, id: string, payload: Input): Promise<Sent> {
    const res = await app.inject({ method: 'POST', url: `/api/v1/conversations/${id}/messages`, payload, headers: auth(id) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  async function history(app: FastifyInstance, id: string): Promise<Message[]> {
    const res = await app.inject({ method: 'GET', url: `/api/v1/conversations/${id}/messages`, headers: auth(id) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().messages;
  }

  beforeAll(() => {
    kb = loadKnowledge('knowledge', 'flows');
    classifier = createClassifier(kb);
  });

  afterAll(async () => {
    for (const it of instances) if (!it.closed) await shutdown(it);
    await deletePrefix();
  });

  it('continues a flow at the next step after the server restarts', async () => {
    const mobile = '13787654321';
    const first = await instance();
    const { conversationId: id } = await start(first.app);
    // 拆迁销户一件事: start it and answer N = 3 questions (户号, 户主, 身份证号).
    const answered: [Input, RegExp][] = [
      [{ postback: 'flow:demolition' }, /户号/],
      [{ text: '1002345678' }, /名字/],
      [{ text: '李四' }, /身份证/],
      [{ text: idNumber('42010619900101002') }, /手机/],
    ];
    for (const [input, asks] of answered) {
      const r = await send(first.app, id, input);
      expect(r.state).toEqual({ mode: 'flow', flowId: 'demolition' });
      expect(r.messages.at(-1)!.text).toMatch(asks);
    }
    const before = await history(first.app, id);
    await shutdown(first);

    const second = await instance();
    expect(await history(second.app, id)).toEqual(before);
    // Step N + 1 (手机号) is answered on the new server, which then asks step N + 2 (水费结清).
    const next = await send(second.app, id, { text: mobile });
    expect(next.state).toEqual({ mode: 'flow', flowId: 'demolition' });
    expect(next.messages.at(-1)!.text).toMatch(/水费都交清/);
    expect(next.messages[0]!.seq).toBe(before.length + 2);
    const after = await history(second.app, id);
    expect(after.slice(0, before.length)).toEqual(before);
    // The stored user message is masked like every transcript entry.
    expect(after[before.length]).toMatchObject({ seq: before.length + 1, from: 'user', text: '137****4321' });
    expect(JSON.stringify(after)).not.toContain(mobile);
    expect(after.map((m) => m.seq)).toEqual(after.map((_, i) => i + 1));

    // Finishing on the second server stores an application a third server can find.
    for (const input of [{ text: '是' }, { text: '是' }, { text: '明天' }, { text: '是' }]) await send(second.app, id, input);
    const done = await send(second.app, id, { text: '确认提交' });
    const ref = done.state.applicationRef!;
    expect(ref).toMatch(/^WS\d{8}-\d{4,}$/);
    await shutdown(second);
    const third = await instance();
    const found = await third.app.inject({ method: 'GET', url: `/api/v1/applications/${ref}?mobile=${mobile}` });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ ref, flowId: 'demolition', mobile: '137****4321' });
    expect(found.body).not.toContain(mobile);
    const wrong = await third.app.inject({ method: 'GET', url: `/api/v1/applications/${ref}?mobile=13700000000` });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json().error.code).toBe('APPLICATION_NOT_FOUND');
  });

  it('keeps every transcript whole, ordered and serial with 50 conversations sending concurrently through two servers', async () => {
    const [a, b] = [await instance(), await instance()];
    const apps = [a.app, b.app];
    // State-dependent inputs (a flow and its answers) plus a question, so lost or raced state updates show.
    const inputs: Input[] = [{ postback: 'flow:demolition' }, { text: '1002345678' }, { text: '王五' }, { text: idNumber('42011119800229001') }, { text: '13612345678' }, { text: '水费在哪交' }];
    // The transcript keeps the user's messages masked (户号, 身份证, mobile).
    const mask = maskerFor(kb);
    const said = (i: Input) => mask('text' in i ? i.text : i.postback);
    const conversations = await Promise.all(Array.from({ length: 50 }, (_, i) => start(apps[i % 2]!)));

    // Every message of every conversation at once; consecutive messages of one conversation alternate servers.
    const results = await Promise.all(
      conversations.flatMap((c, ci) =>
        inputs.map(async (input, ti) => ({ conversationId: c.conversationId, text: said(input), reply: await send(apps[(ci + ti) % 2]!, c.conversationId, input) })),
      ),
    );

    // Replaying the user messages one by one, in transcript order, on a fresh memory-backed service gives the same replies.
    const replayService = createConversationService({ kb, classifier, stores: createMemoryStores(), logger: createLogger('silent') });
    const content = (m: Message) => ({ from: m.from, text: m.text, quickReplies: m.quickReplies, card: m.card });

    for (const c of conversations) {
      const transcript = await history(apps[0]!, c.conversationId);
      expect(transcript.map((m) => m.seq)).toEqual(transcript.map((_, i) => i + 1));
      expect(transcript[0]).toEqual(c.messages[0]);
      const userTexts = transcript.filter((m) => m.from === 'user').map((m) => m.text);
      expect([...userTexts].sort()).toEqual(inputs.map(said).sort());

      const mine = results.filter((x) => x.conversationId === c.conversationId);
      for (const r of mine) {
        // The reply's messages sit right after its own user message, and the next user message follows them.
        expect(r.reply.messages.length).toBeGreaterThan(0);
        const u = transcript.findIndex((m) => m.from === 'user' && m.text === r.text);
        expect(transcript.slice(u + 1, u + 1 + r.reply.messages.length)).toEqual(r.reply.messages);
        const following = transcript[u + 1 + r.reply.messages.length];
        if (following) expect(following.from).toBe('user');
      }
      expect(transcript.length).toBe(1 + inputs.length + mine.reduce((n, x) => n + x.reply.messages.length, 0));

      const replay = await replayService.start();
      const expected = [...replay.messages];
      for (const text of userTexts) {
        const input = inputs.find((i) => said(i) === text)!;
        expected.push({ seq: 0, from: 'user', text, at: '' }, ...(await replayService.send(replay.conversationId, input)).messages);
      }
      expect(transcript.map(content)).toEqual(expected.map(content));
    }
  });

  it('/readyz is 200 on Redis and 503 once the connection is gone', async () => {
    const it = await instance();
    const ready = await it.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', store: 'redis' });
    await it.stores.close();
    const gone = await it.app.inject({ method: 'GET', url: '/readyz' });
    expect(gone.statusCode).toBe(503);
    expect(gone.json()).toMatchObject({ status: 'unavailable', store: 'redis', error: { code: 'STORE_UNAVAILABLE' } });
    it.closed = true;
    await it.app.close();
  });
});
