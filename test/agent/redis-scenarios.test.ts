import { afterEach, expect, it } from 'vitest';
import { redisSuite } from '../helpers/redis.js';
import { turnNotices } from '../../src/handoff/effect.js';
import { AgentClient, redisPrefix, startInstance, WidgetUser, type Instance, type InstanceOptions } from './harness.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const suite = await redisSuite('handoff scenarios on Redis', url, 'wsa-test-probe');

suite('handoff scenarios on Redis', () => {
  const open: Instance[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  /** Instances sharing one fresh prefix. */
  async function cluster(n: number, opts: Omit<InstanceOptions, 'redis'> = {}): Promise<Instance[]> {
    const keys = redisPrefix(url, 'handoff');
    cleanups.push(keys.cleanup);
    const out: Instance[] = [];
    for (let i = 0; i < n; i++) out.push(await startInstance({ ...opts, redis: { url, prefix: keys.prefix } }));
    open.push(...out);
    return out;
  }
  afterEach(async () => {
    for (const i of open.splice(0)) await i.close().catch(() => undefined);
    for (const c of cleanups.splice(0)) await c();
  });

  async function queuedFor(agent: AgentClient, conversationId: string): Promise<any> {
    for (let i = 0; i < 50; i++) {
      const q = await agent.call('GET', '/api/v1/agent/queue');
      const item = q.body.items.find((x: any) => x.conversationId === conversationId);
      if (item) return item;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('not queued');
  }

  it('two agents claim at once: exactly one wins, the other gets 409 HANDOFF_TAKEN', async () => {
    const [a, b] = await cluster(2);
    await a!.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    await a!.handoff.service.agents.add('agent.b', '乙', 'password-b-1');
    const x = new AgentClient(a!.url);
    const y = new AgentClient(b!.url);
    await x.login('agent.a', 'password-a-1');
    await y.login('agent.b', 'password-b-1');
    for (let round = 0; round < 5; round++) {
      const user = new WidgetUser(a!.url);
      await user.start();
      await user.say('转人工');
      const item = await queuedFor(x, user.id);
      const answers = await Promise.all([x.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`), y.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`)]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(answers.find((r) => r.status === 409)!.body.error.code).toBe('HANDOFF_TAKEN');
      const winner = answers[0]!.status === 200 ? 'agent.a' : 'agent.b';
      expect((await a!.handoff.service.get(item.id))!.agent).toBe(winner);
      const joined = (await a!.service.history(user.id)).filter((m) => m.text.includes('已接入'));
      expect(joined).toHaveLength(1);
    }
  });

  it('a user on instance A and an agent on instance B talk in real time and in order', async () => {
    const [a, b] = await cluster(2);
    await b!.handoff.service.agents.add('li.na', '李娜', 'password-li-1');
    const agent = new AgentClient(b!.url);
    await agent.login('li.na', 'password-li-1');
    const ws = await agent.socket();
    const user = new WidgetUser(a!.url);
    await user.start();
    await user.connect();
    await user.say('找人工客服');
    const item = (await ws.until((e) => e.type === 'queue' && e.items.some((i: any) => i.conversationId === user.id))).items.find((i: any) => i.conversationId === user.id);
    expect((await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`)).status).toBe(200);
    ws.send({ type: 'watch', handoffId: item.id, after: 0 });
    for (let i = 1; i <= 4; i++) {
      expect(await user.say(`用户${i}`)).toEqual([]);
      await ws.until((e) => e.type === 'messages' && e.messages.some((m: any) => m.text === `用户${i}`));
      await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/messages`, { text: `坐席${i}` });
      await user.until((m) => m.text === `坐席${i}`);
    }
    // The widget on A got the agent lines over Redis pub/sub, in seq order, never twice.
    const seqs = user.received.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((p, q) => p - q));
    expect(new Set(seqs).size).toBe(seqs.length);
    const seen = user.received.filter((m) => /^(用户|坐席)\d$/.test(m.text)).map((m) => m.text);
    expect(seen).toEqual(['用户1', '坐席1', '用户2', '坐席2', '用户3', '坐席3', '用户4', '坐席4']);
    // The console drops; the user goes on; the new socket resyncs by seq: exactly the missed messages, once.
    const last = Math.max(...ws.messages(item.id).map((m) => m.seq));
    ws.close();
    await user.say('断线期间1');
    await user.say('断线期间2');
    const again = await agent.socket();
    again.send({ type: 'watch', handoffId: item.id, after: last });
    await again.until((e) => e.type === 'messages' && e.messages.some((m: any) => m.text === '断线期间2'));
    await new Promise((r) => setTimeout(r, 200));
    expect(again.messages(item.id).map((m) => m.text)).toEqual(['断线期间1', '断线期间2']);
    again.close();
    user.close();
  });

  it('a console killed mid-conversation: after the grace period the handoff is back in the queue with its history', async () => {
    const [a, b] = await cluster(2, { settings: { claimGraceS: 1 }, heartbeatMs: 200, sweepMs: 200 });
    await a!.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    await a!.handoff.service.agents.add('agent.b', '乙', 'password-b-1');
    const x = new AgentClient(a!.url);
    await x.login('agent.a', 'password-a-1');
    const ws = await x.socket();
    const user = new WidgetUser(b!.url);
    await user.start();
    await user.say('转人工');
    const item = await queuedFor(x, user.id);
    await x.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    await user.say('我家停水两天了');
    await x.call('POST', `/api/v1/agent/handoffs/${item.id}/messages`, { text: '请问您的地址？' });
    // Still held while the console is alive, past the grace period.
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await a!.handoff.service.get(item.id))!.status).toBe('claimed');
    ws.close(); // killed: no close handshake, no more heartbeats
    const deadline = Date.now() + 6_000;
    while ((await a!.handoff.service.get(item.id))!.status !== 'queued') {
      if (Date.now() > deadline) throw new Error('claim never returned');
      await new Promise((r) => setTimeout(r, 100));
    }
    const h = (await a!.handoff.service.get(item.id))!;
    expect(h.agent).toBeUndefined();
    expect(h.returns).toEqual([expect.objectContaining({ agent: 'agent.a' })]);
    expect((await a!.service.history(user.id)).some((m) => m.from === 'system' && m.text.includes('重新排队'))).toBe(true);
    // The next agent finds it in the queue and gets the whole history.
    const y = new AgentClient(b!.url);
    await y.login('agent.b', 'password-b-1');
    const again = await queuedFor(y, user.id);
    expect(again.status).toBe('queued');
    const packet = await y.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    expect(packet.status).toBe(200);
    expect(packet.body.messages.map((m: any) => m.text)).toEqual(expect.arrayContaining(['我家停水两天了', '请问您的地址？']));
  });

  it('nothing is lost on a restart: queued and claimed handoffs, agents and sessions survive', async () => {
    const keys = redisPrefix(url, 'handoff-restart');
    cleanups.push(keys.cleanup);
    const first = await startInstance({ redis: { url, prefix: keys.prefix } });
    await first.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const x = new AgentClient(first.url);
    await x.login('agent.a', 'password-a-1');
    const u1 = new WidgetUser(first.url);
    await u1.start();
    await u1.say('转人工');
    const u2 = new WidgetUser(first.url);
    await u2.start();
    await u2.say('转人工');
    const i1 = await queuedFor(x, u1.id);
    await x.call('POST', `/api/v1/agent/handoffs/${i1.id}/claim`);
    await first.close();
    const second = await startInstance({ redis: { url, prefix: keys.prefix } });
    open.push(second);
    const x2 = Object.assign(new AgentClient(second.url), { cookie: x.cookie, csrf: x.csrf });
    const q = await x2.call('GET', '/api/v1/agent/queue');
    expect(q.status).toBe(200);
    const byConv = Object.fromEntries(q.body.items.map((i: any) => [i.conversationId, i.status]));
    expect(byConv).toEqual({ [u1.id]: 'claimed', [u2.id]: 'queued' });
    expect((await x2.call('POST', `/api/v1/agent/handoffs/${i1.id}/messages`, { text: '重启后继续' })).status).toBe(200);
    expect((await second.service.history(u1.id)).at(-1)).toMatchObject({ from: 'agent', text: '重启后继续' });
  });

  it('no agent online: the user is offered a callback, the mobile is validated, the ticket shows in the console list', async () => {
    const [a] = await cluster(1);
    await a!.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const user = new WidgetUser(a!.url);
    await user.start();
    const r = await user.say('转人工');
    const offer = r.find((m) => m.text.includes('没有在线的人工客服'))!;
    expect(offer.text).toContain(a!.handoff.service.vars().hotline);
    expect(offer.quickReplies!.map((q) => q.postback)).toEqual(['handoff:callback', 'handoff:wait', 'handoff:cancel']);
    expect((await user.say({ postback: 'handoff:callback' }))[0]!.text).toContain('手机号');
    expect((await user.say('12345'))[0]!.text).toContain('11 位数字');
    const slots = (await user.say('138 1234 5678'))[0]!;
    expect(slots.quickReplies!.length).toBeGreaterThan(1);
    const done = (await user.say({ postback: slots.quickReplies![1]!.postback }))[0]!;
    const ticket = done.text.match(/CB\d{8}-\d{4}/)![0];
    expect(done.text).toContain('138****5678');
    expect(done.text).not.toContain('13812345678');
    const x = new AgentClient(a!.url);
    await x.login('agent.a', 'password-a-1');
    const list = await x.call('GET', '/api/v1/agent/callbacks');
    expect(list.body.callbacks).toEqual([expect.objectContaining({ id: ticket, status: 'open', mobile: '138****5678', slot: slots.quickReplies![1]!.title, conversationId: user.id })]);
    expect(JSON.stringify(list.body)).not.toContain('13812345678');
    // The queue no longer holds it; the bot answers again.
    expect((await x.call('GET', '/api/v1/agent/queue')).body.items).toEqual([]);
    expect((await user.say('水费怎么交')).length).toBeGreaterThan(0);
    // An agent marks it called, and creates one from a phone call (mobile validated).
    expect((await x.call('POST', `/api/v1/agent/callbacks/${ticket}/status`, { status: 'called' })).body.callback.status).toBe('called');
    expect((await x.call('POST', '/api/v1/agent/callbacks', { mobile: '2345', slot: '尽快' })).body.error.code).toBe('INVALID_MOBILE');
    const phone = await x.call('POST', '/api/v1/agent/callbacks', { mobile: '13900001111', slot: '尽快', note: '来电：表箱漏水' });
    expect(phone.status).toBe(200);
    expect(phone.body.callback).toMatchObject({ mobile: '139****1111', createdBy: 'agent.a', status: 'open' });
    expect((await x.call('GET', '/api/v1/agent/dashboard')).body.callbackBacklog).toBe(1);
  });

  it('取消转人工 leaves the queue; the place in line is told on joining and when it changes', async () => {
    const [a] = await cluster(1);
    await a!.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const x = new AgentClient(a!.url);
    await x.login('agent.a', 'password-a-1');
    const first = new WidgetUser(a!.url);
    await first.start();
    await first.say('转人工');
    const second = new WidgetUser(a!.url);
    await second.start();
    await second.connect();
    expect((await second.say('转人工')).map((m) => m.text).join()).toMatch(/前面还有 1 位，预计等待约 \d+ 分钟/);
    const cancel = await first.say('取消转人工');
    expect(cancel.map((m) => m.text).join()).toContain('已为您取消转人工');
    await second.until((m) => m.from === 'system' && m.text.includes('排队更新') && m.text.includes('前面还有 0 位'));
    expect((await x.call('GET', '/api/v1/agent/queue')).body.items.map((i: any) => i.conversationId)).toEqual([second.id]);
    second.close();
  });

  it('urgent handoffs tell the hotline at once and are offered first', async () => {
    const [a] = await cluster(1);
    await a!.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    const x = new AgentClient(a!.url);
    await x.login('agent.a', 'password-a-1');
    const plain = new WidgetUser(a!.url);
    await plain.start();
    await plain.say('转人工');
    // The engine's effect carries the reason; an urgent one (from the understanding of long messages) is queued ahead.
    const urgent = new WidgetUser(a!.url);
    await urgent.start();
    await urgent.say('水管爆了，到处都是水');
    const handler = a!.handoff.effects[0]!;
    const turn = { conversationId: urgent.id, channel: 'web', input: { text: '楼下水管爆了' }, now: new Date(), log: { info() {}, warn() {} }, session: undefined, applications: [], outgoing: [] } as never;
    await handler.run({ type: 'handoff', reason: 'urgent', summary: '' } as never, turn);
    const notices = turnNotices.get(turn)!;
    expect(notices[0]!.text).toContain(`拨打 ${a!.handoff.service.vars().hotline}`);
    expect(notices[1]!.text).toMatch(/前面还有 0 位/);
    const q = (await x.call('GET', '/api/v1/agent/queue')).body.items;
    expect(q.map((i: any) => [i.conversationId, i.priority])).toEqual([[urgent.id, 'urgent'], [plain.id, 'asked']]);
  });
});
