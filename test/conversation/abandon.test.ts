import { beforeAll, describe, expect, it } from 'vitest';
import { abandonStaleFlow, createConversationService, FLOW_ABANDONED_NOTICE } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { initialState, type DialogueState } from '../../src/dialogue/index.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { createMemoryStores } from '../../src/store/index.js';

let kb: KnowledgeBase;
let classifier: Classifier;
beforeAll(() => {
  kb = loadKnowledge('knowledge', 'flows');
  classifier = createClassifier(kb);
});

const flowState = () => ({ id: 'demolition', answers: { name: '张三', mobile: '13912345678' }, questionId: 'mobile', phase: 'asking' as const, answered: ['name'], editing: false });
const inFlow = (): DialogueState => ({ ...initialState(), mode: 'flow', itemId: 'x', applications: ['WS20261201-0001'], flow: flowState() });
const at = (iso: string) => new Date(iso);

describe('abandonStaleFlow', () => {
  it('drops the flow and its answers after the idle limit, back to the bot, keeping everything else', () => {
    const r = abandonStaleFlow(inFlow(), at('2026-12-01T10:01:00Z'), { updatedAt: '2026-12-01T09:00:00Z', abandonMinutes: 60 });
    expect(r.abandoned).toBe(true);
    expect('flow' in r.state).toBe(false);
    expect(r.state.mode).toBe('bot');
    expect(r.state.applications).toEqual(['WS20261201-0001']);
    expect(r.state.itemId).toBe('x');
    expect(JSON.stringify(r.state)).not.toContain('13912345678');
  });

  it('keeps a flow within the limit, a session without a flow, and a record without a usable updatedAt', () => {
    const s = inFlow();
    expect(abandonStaleFlow(s, at('2026-12-01T09:59:00Z'), { updatedAt: '2026-12-01T09:00:00Z', abandonMinutes: 60 })).toEqual({ state: s, abandoned: false });
    const idle = { ...initialState(), itemId: 'y' };
    expect(abandonStaleFlow(idle, at('2026-12-09T00:00:00Z'), { updatedAt: '2026-12-01T09:00:00Z' }).abandoned).toBe(false);
    expect(abandonStaleFlow(s, at('2026-12-09T00:00:00Z'), { updatedAt: 'garbage' }).abandoned).toBe(false);
    expect(abandonStaleFlow(s, at('2026-12-09T00:00:00Z'), {}).abandoned).toBe(false);
  });

  it('defaults to 60 minutes and leaves a held conversation with its person', () => {
    expect(abandonStaleFlow(inFlow(), at('2026-12-01T09:59:00Z'), { updatedAt: '2026-12-01T09:00:00Z' }).abandoned).toBe(false);
    const agent: DialogueState = { ...initialState(), mode: 'agent', handoffReason: 'user-request', suspended: flowState() };
    const held = abandonStaleFlow(agent, at('2026-12-01T10:01:00Z'), { updatedAt: '2026-12-01T09:00:00Z' });
    expect(held).toMatchObject({ abandoned: true, state: { mode: 'agent' } });
    expect('suspended' in held.state).toBe(false);
    expect(JSON.stringify(held.state)).not.toContain('13912345678');
  });
});

describe('a flow abandoned mid-way', () => {
  async function midFlow(abandonMinutes?: number) {
    let now = at('2026-12-01T02:00:00Z');
    const stores = createMemoryStores();
    const svc = createConversationService({ kb, classifier, stores, logger: createLogger('silent'), now: () => now, ...(abandonMinutes ? { flowAbandonMinutes: abandonMinutes } : {}) });
    const { conversationId: id } = await svc.start();
    await svc.send(id, { postback: 'flow:demolition' });
    await svc.send(id, { text: '1002345678' });
    const asked = await svc.send(id, { text: '张三' });
    expect(asked.state.mode).toBe('flow');
    return { svc, stores, id, asked, advance: (min: number) => void (now = new Date(now.getTime() + min * 60_000)) };
  }

  it('is cleared on the next message after FLOW_ABANDON_MINUTES, the user told once, the answers gone from the session', async () => {
    const { svc, stores, id, advance } = await midFlow();
    advance(61);
    const r = await svc.send(id, { text: '水费在哪交' });
    expect(r.messages[0]!.text).toBe(FLOW_ABANDONED_NOTICE);
    expect(r.messages.length).toBeGreaterThan(1);
    expect(r.state.mode).toBe('bot');
    expect(r.state.flowId).toBeUndefined();
    const session = JSON.stringify((await stores.sessions.get(id))!.state);
    expect(session).not.toContain('张三');
    expect(session).not.toContain('1002345678');
    const again = await svc.send(id, { text: '水费在哪交' });
    expect(again.messages.map((m) => m.text)).not.toContain(FLOW_ABANDONED_NOTICE);
    // Stored once in the transcript, as a bot message after the user's.
    expect((await svc.history(id)).filter((m) => m.text === FLOW_ABANDONED_NOTICE).map((m) => m.from)).toEqual(['bot']);
  });

  it('goes on where it was before the limit, and the limit is configurable', async () => {
    const a = await midFlow();
    a.advance(59);
    const r = await a.svc.send(a.id, { text: '13912345678' });
    expect(r.messages.map((m) => m.text)).not.toContain(FLOW_ABANDONED_NOTICE);
    expect(r.state).toMatchObject({ mode: 'flow', flowId: 'demolition' });
    const b = await midFlow(5);
    b.advance(6);
    expect((await b.svc.send(b.id, { text: '13912345678' })).messages[0]!.text).toBe(FLOW_ABANDONED_NOTICE);
  });
});
