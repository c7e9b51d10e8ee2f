import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createConversationService, maskerFor, type ConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { createMemoryBus } from '../../src/delivery/index.js';
import { createHandoff, priorityOf, type HandoffArea, type HandoffBackend } from '../../src/handoff/index.js';
import { createMemoryStores, type Stores } from '../../src/store/index.js';
import { knowledge } from '../agent/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'wsa-handoff-svc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Setup {
  handoff: HandoffArea;
  service: ConversationService;
  stores: Stores;
}

const opened: HandoffArea[] = [];
afterEach(async () => {
  for (const h of opened.splice(0)) await h.close();
});

async function setup(backend: HandoffBackend = { kind: 'memory' }, stores: Stores = createMemoryStores(), settings: Partial<{ maxWaitS: number }> = {}, now?: () => Date): Promise<Setup> {
  const { kb, classifier } = knowledge();
  const logger = createLogger('silent');
  const bus = createMemoryBus();
  const handoff = await createHandoff({ backend, kb, knowledgeDir: 'knowledge', stores, bus, logger, mask: maskerFor(kb), settings: { maxWaitS: 300, claimGraceS: 60, avgHandleS: 240, sessionTtlS: 3600, ...settings }, sweepMs: 60_000, ...(now ? { now } : {}) });
  opened.push(handoff);
  const service = createConversationService({ kb, classifier, stores, logger, bus, middleware: handoff.middleware, effects: handoff.effects, ...(now ? { now } : {}) });
  handoff.attach(service);
  await handoff.start();
  return { handoff, service, stores };
}

describe('priority', () => {
  it('takes the classifier priority when given, else maps the reason: urgent > complaint > asked', () => {
    expect(priorityOf({ reason: 'user-request' })).toBe('asked');
    expect(priorityOf({ reason: 'clarify-none' })).toBe('asked');
    expect(priorityOf({ reason: 'urgent' })).toBe('urgent');
    expect(priorityOf({ reason: 'user-request', handoffReason: 'complaint' })).toBe('complaint');
    expect(priorityOf({ reason: 'user-request', priority: 'urgent' })).toBe('urgent');
    expect(priorityOf({ reason: 'urgent', priority: 'bogus' })).toBe('urgent');
  });
});

describe('handoff in the turn pipeline (memory)', () => {
  it('"都不是，转人工" on a clarify queues with reason clarify-none and a summary naming what was asked', async () => {
    const { service, handoff } = await setup();
    const { conversationId } = await service.start();
    await service.send(conversationId, { text: '水表' });
    const r = await service.send(conversationId, { postback: 'handoff:none' });
    expect(r.state.mode).toBe('handoff');
    const h = (await handoff.service.activeFor(conversationId))!;
    expect(h).toMatchObject({ reason: 'clarify-none', priority: 'asked', status: 'queued' });
    expect(h.summary).toContain('“水表”');
    expect(h.summary).not.toContain('handoff:none');
    expect(r.messages.at(-1)!.text).toContain('没有在线的人工客服');
  });

  it('two misunderstandings, then the offer accepted: reason repeated-fallback', async () => {
    const { service, handoff } = await setup();
    const { conversationId } = await service.start();
    await service.send(conversationId, { text: '啊啊啊啊' });
    await service.send(conversationId, { text: '哦哦哦哦哦' });
    await service.send(conversationId, { postback: 'handoff' });
    expect((await handoff.service.activeFor(conversationId))!.reason).toBe('repeated-fallback');
  });

  it('asking again while queued keeps one handoff and answers with the place in line', async () => {
    const { service, handoff } = await setup();
    const { conversationId } = await service.start();
    await service.send(conversationId, { text: '转人工' });
    const again = await service.send(conversationId, { text: '转人工' });
    expect(again.messages.map((m) => m.text).join()).toContain('前面还有 0 位');
    expect((await handoff.service.queue()).length).toBe(1);
  });

  it('a rating skipped by asking a question lets the bot answer it; a text rating "4分" is taken', async () => {
    const { service, handoff } = await setup();
    await handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    for (const [answer, expected] of [['水费怎么交', undefined], ['4分', 4]] as const) {
      const { conversationId } = await service.start();
      await service.send(conversationId, { text: '转人工' });
      const h = (await handoff.service.activeFor(conversationId))!;
      await handoff.service.claim(h.id, 'agent.a');
      await handoff.service.close(h.id, 'agent.a', 'answered');
      const r = await service.send(conversationId, { text: answer });
      if (expected === undefined) {
        expect(r.state.mode).toBe('bot');
        expect(r.messages.some((m) => m.from === 'bot' && m.text.length > 20)).toBe(true);
        expect((await handoff.service.get(h.id))!.rating).toMatchObject({ stage: 'done' });
        expect((await handoff.service.get(h.id))!.rating!.score).toBeUndefined();
      } else {
        expect(r.messages[0]!.text).toContain('感谢您的评分');
        await service.send(conversationId, { text: '跳过' });
        expect((await handoff.service.get(h.id))!.rating).toMatchObject({ score: 4, stage: 'done' });
        expect((await handoff.service.get(h.id))!.rating!.comment).toBeUndefined();
      }
    }
  });

  it('a wait past HANDOFF_MAX_WAIT_S offers the callback once', async () => {
    let t = Date.parse('2026-12-01T02:00:00Z');
    const { service, handoff } = await setup({ kind: 'memory' }, createMemoryStores(), { maxWaitS: 60 }, () => new Date(t));
    await handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    await handoff.service.agents.touch('agent.a');
    const { conversationId } = await service.start();
    const r = await service.send(conversationId, { text: '转人工' });
    expect(r.messages.at(-1)!.text).toContain('前面还有 0 位');
    t += 61_000;
    await handoff.service.sweep();
    await handoff.service.sweep();
    const offers = (await service.history(conversationId)).filter((m) => m.text.includes('久等'));
    expect(offers).toHaveLength(1);
    expect(offers[0]!.quickReplies!.map((q) => q.postback)).toContain('handoff:callback');
  });

  it('personal numbers typed while waiting are masked in the transcript the agent reads', async () => {
    const { service, handoff, stores } = await setup();
    const { conversationId } = await service.start();
    await service.send(conversationId, { text: '转人工' });
    await service.send(conversationId, { text: '我的手机 13912345678' });
    const all = JSON.stringify(await stores.transcripts.list(conversationId));
    expect(all).not.toContain('13912345678');
    const h = (await handoff.service.activeFor(conversationId))!;
    expect(JSON.stringify((await handoff.service.packet(h)).messages)).toContain('139****5678');
  });
});

describe('embedded mode (SQLite under HANDOFF_DATA_DIR)', () => {
  it('keeps agents, queued and claimed handoffs and callback tickets across a restart', async () => {
    const stores = createMemoryStores();
    const backend: HandoffBackend = { kind: 'sqlite', dir };
    const first = await setup(backend, stores);
    await first.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const c1 = await first.service.start();
    const c2 = await first.service.start();
    await first.service.send(c1.conversationId, { text: '转人工' });
    await first.service.send(c2.conversationId, { text: '转人工' });
    const h1 = (await first.handoff.service.activeFor(c1.conversationId))!;
    await first.handoff.service.claim(h1.id, 'agent.a');
    const ticket = await first.handoff.service.createCallback({ mobile: '13800001111', slot: '尽快', createdBy: 'agent.a' });
    await first.handoff.close();
    opened.splice(opened.indexOf(first.handoff), 1);

    const second = await setup(backend, stores);
    expect(await second.handoff.service.agents.verify('agent.a', 'password-a-1')).toMatchObject({ name: '甲' });
    // Oldest first: c1 (claimed) joined before c2.
    expect((await second.handoff.service.queue()).map((q) => [q.conversationId, q.status, q.agent ?? null])).toEqual([
      [c1.conversationId, 'claimed', 'agent.a'],
      [c2.conversationId, 'queued', null],
    ]);
    expect((await second.handoff.service.callbacks()).map((c) => c.id)).toEqual([ticket.id]);
    // The claimed one still holds the conversation: the bot stays silent.
    expect((await second.service.send(c1.conversationId, { text: '还在吗' })).messages).toEqual([]);
  });
});

describe('robustness', () => {
  it('a queued conversation that expired leaves the queue at the next sweep; closing one that expired still closes', async () => {
    const { service, handoff, stores } = await setup();
    await handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const gone = await service.start();
    await service.send(gone.conversationId, { text: '转人工' });
    const held = await service.start();
    await service.send(held.conversationId, { text: '转人工' });
    const h2 = (await handoff.service.activeFor(held.conversationId))!;
    await handoff.service.claim(h2.id, 'agent.a');
    const h1 = (await handoff.service.activeFor(gone.conversationId))!;
    await stores.sessions.delete(gone.conversationId);
    await stores.sessions.delete(held.conversationId);
    await handoff.service.sweep();
    expect((await handoff.service.get(h1.id))!.status).toBe('cancelled');
    expect((await handoff.service.close(h2.id, 'agent.a', 'no-response')).status).toBe('closed');
    expect(await handoff.service.queue()).toEqual([]);
  });
});

describe('callback mobile in the packet', () => {
  it('a mobile given for a callback is masked in the packet and revealable (audited) once the handoff is claimed', async () => {
    const { service, handoff } = await setup();
    await handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const { conversationId } = await service.start();
    await service.send(conversationId, { text: '转人工' });
    await service.send(conversationId, { postback: 'handoff:callback' });
    await service.send(conversationId, { text: '13712345678' });
    const h = (await handoff.service.activeFor(conversationId))!;
    const claimed = await handoff.service.claim(h.id, 'agent.a');
    const packet = await handoff.service.packet(claimed);
    expect(JSON.stringify(packet)).not.toContain('13712345678');
    expect(packet.handoff.secrets).toEqual([{ name: 'callback.mobile', label: '回电手机号', masked: '137****5678' }]);
    expect((await handoff.service.reveal(h.id, 'agent.a', 'callback.mobile')).value).toBe('13712345678');
    expect(await handoff.service.auditOf(h.id)).toEqual([expect.objectContaining({ agent: 'agent.a', field: 'callback.mobile' })]);
  });
});
