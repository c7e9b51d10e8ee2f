import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebChannel } from '../../src/channels/web/index.js';
import { createConversationService, flowRunId } from '../../src/conversation/index.js';
import { AppError, createLogger, type Message } from '../../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';
import { press, type ScriptStep } from '../faults/turn-script.js';
import { listen, Widget } from '../server/web-helpers.js';

let kb: KnowledgeBase;
let classifier: Classifier;
const opened: FastifyInstance[] = [];
beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});
afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
});

/** Completes 17 digits with the GB 11643 check character. */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}

/** A demolition flow up to its summary: yes/no by the buttons shown; 拆迁 has no 可容缺 materials to ask about. */
const DEMOLITION: ScriptStep[] = [{ postback: 'flow:demolition' }, { text: '1002345678' }, { text: '张三' }, { text: idNumber('42010219850715003') }, { text: '13912345678' }, { button: 'yes' }, { button: 'no' }, { text: '明天' }];

/** Sends the steps, pressing the buttons the previous reply showed; returns the summary's submit button. */
async function toSummary(svc: ReturnType<typeof createConversationService>, id: string): Promise<{ postback: string }> {
  let last: Message[] = [];
  for (const s of DEMOLITION) last = (await svc.send(id, 'button' in s ? press(last, s.button) : s)).messages;
  expect(last.map((m) => m.text).join('\n')).toContain('请核对申请信息');
  return press(last, 'confirm') as { postback: string };
}

async function count(stores: Stores): Promise<number> {
  return (await stores.size()).applications;
}

describe('create-application is idempotent per flow run', () => {
  it('a submit retried without clientMessageId, after the session write was lost, gets the same reference number', async () => {
    const stores = createMemoryStores();
    const svc = createConversationService({ kb, classifier, stores, logger: createLogger('silent') });
    const { conversationId: id } = await svc.start();
    const confirm = await toSummary(svc, id);
    const beforeSubmit = (await stores.sessions.get(id))!;
    const first = await svc.send(id, confirm);
    const ref = first.state.applicationRef!;
    expect(ref).toMatch(/^WS\d{8}-0001$/);
    // The crash the runId guards against: the application stored, the session as it was before the submit.
    await stores.sessions.set(id, beforeSubmit);
    const retry = await svc.send(id, confirm);
    expect(retry.state.applicationRef).toBe(ref);
    expect(retry.messages.map((m) => m.text).join('\n')).toContain(`办件编号：${ref}`);
    expect(await count(stores)).toBe(1);
    expect((await stores.applications.get(ref))?.runId).toMatch(/^run-/);
    // The next reference number was not taken by the retry.
    expect(await stores.applications.nextRef(ref.slice(2, 10))).toBe(`${ref.slice(0, -4)}0002`);
  });

  it('a second, identical run in the same conversation is a new application', async () => {
    const stores = createMemoryStores();
    const svc = createConversationService({ kb, classifier, stores, logger: createLogger('silent') });
    const { conversationId: id } = await svc.start();
    const refs: string[] = [];
    for (let run = 0; run < 2; run++) {
      refs.push((await svc.send(id, await toSummary(svc, id))).state.applicationRef!);
    }
    expect(new Set(refs).size).toBe(2);
    expect(await count(stores)).toBe(2);
  });

  it('the run id depends on the conversation, the flow, the answers and earlier submissions, not on key order', () => {
    const d = { conversationId: 'c1', flowId: 'demolition', answers: { a: '1', b: 2 } };
    expect(flowRunId(d, 0)).toBe(flowRunId({ ...d, answers: { b: 2, a: '1' } }, 0));
    expect(flowRunId(d, 0)).not.toBe(flowRunId(d, 1));
    expect(flowRunId(d, 0)).not.toBe(flowRunId({ ...d, conversationId: 'c2' }, 0));
    expect(flowRunId(d, 0)).not.toBe(flowRunId({ ...d, answers: { a: '1', b: 3 } }, 0));
  });
});

describe('error messages outside the HTTP error handler', () => {
  it('a socket error for a store outage names the hotline from utility.yaml, never "{hotline}"', async () => {
    const stores = createMemoryStores();
    const svc = createConversationService({ kb, classifier, stores, logger: createLogger('silent') });
    const { conversationId: id, token } = await svc.start();
    const failing = { ...svc, send: async () => Promise.reject(new AppError('STORE_UNAVAILABLE')) };
    const web = createWebChannel({ service: failing, utility: kb.utility });
    const app = await buildServer({ service: failing, stores, logger: createLogger('silent'), channels: [web] });
    opened.push(app);
    const w = await Widget.open(await listen(app), id, token);
    try {
      w.send({ type: 'send', text: '水费在哪交', clientMessageId: 'm1' });
      await w.until((x) => x.events.some((e) => e.type === 'error'));
      const error = w.events.find((e) => e.type === 'error') as unknown as { code: string; message: string; clientMessageId: string };
      expect(error.code).toBe('STORE_UNAVAILABLE');
      expect(error.clientMessageId).toBe('m1');
      expect(error.message).toContain(kb.utility.hotline);
      expect(error.message).not.toContain('{hotline}');
    } finally {
      w.close();
    }
  });
});
