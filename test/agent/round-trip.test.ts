import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisSuite } from '../helpers/redis.js';
import { AgentClient, redisPrefix, startInstance, WidgetUser, type Instance } from './harness.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = redisPrefix(url, 'handoff-rt');
const suite = await redisSuite('handoff round trip on Redis', url, keys.prefix);

suite('handoff round trip on Redis', () => {
  let a: Instance;
  beforeAll(async () => {
    a = await startInstance({ redis: { url, prefix: keys.prefix } });
    await a.handoff.service.agents.add('wang.fang', '王芳', 'correct-horse-1');
  });
  afterAll(async () => {
    await a?.close();
    await keys.cleanup();
  });

  it('widget user asks for a person; the agent sees the packet, claims, they talk in order, the bot is silent, the agent closes, the user rates', async () => {
    const agent = new AgentClient(a.url);
    expect((await agent.login('wang.fang', 'correct-horse-1')).status).toBe(200);
    const consoleWs = await agent.socket();

    const user = new WidgetUser(a.url);
    await user.start();
    await user.connect();
    await user.say('过户要带什么材料');
    const handoffReplies = await user.say('转人工');
    expect(handoffReplies.map((m) => m.text).join('\n')).toMatch(/前面还有 0 位/);

    // The queue reaches the console live, with the summary of what was asked.
    const queued = await consoleWs.until((e) => e.type === 'queue' && e.items.some((i: any) => i.conversationId === user.id));
    const item = queued.items.find((i: any) => i.conversationId === user.id);
    expect(item).toMatchObject({ status: 'queued', priority: 'asked', reason: 'user-request', channel: 'web', position: 1 });
    expect(item.summary).toContain('过户要带什么材料');

    const claim = await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    expect(claim.status).toBe(200);
    expect(claim.body.handoff.summary).toMatch(/事项：.*过户/);
    expect(claim.body.handoff.summary).toMatch(/已看过指南：.*过户/);
    expect(claim.body.messages.map((m: any) => m.text)).toContain('过户要带什么材料');
    expect(claim.body.reasonLabel).toBe('用户要求转人工');
    await user.until((m) => m.from === 'system' && m.text.includes('王芳') && m.text.includes('已接入'));

    consoleWs.send({ type: 'watch', handoffId: item.id, after: 0 });
    const lines = ['我家水表过户，卖家联系不上怎么办', '房产证已经过户了', '好的谢谢'];
    for (const [i, line] of lines.entries()) {
      const replies = await user.say(line);
      expect(replies, 'the bot is silent while the agent holds the conversation').toEqual([]);
      await consoleWs.until((e) => e.type === 'messages' && e.handoffId === item.id && e.messages.some((m: any) => m.text === line));
      const sent = await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/messages`, { text: `回复${i + 1}` });
      expect(sent.status).toBe(200);
      await user.until((m) => m.from === 'agent' && m.text === `回复${i + 1}`);
    }
    const agentLines = user.received.filter((m) => m.from === 'agent');
    expect(agentLines.map((m) => m.text)).toEqual(['回复1', '回复2', '回复3']);
    expect(agentLines.every((m) => m.author === '人工客服 王芳')).toBe(true);
    // In order: the transcript interleaves user and agent exactly as they spoke; no bot line after the claim.
    const history = await a.service.history(user.id);
    const afterClaim = history.slice(history.findIndex((m) => m.text.includes('已接入')) + 1);
    expect(afterClaim.map((m) => `${m.from}:${m.text}`)).toEqual(lines.flatMap((l, i) => [`user:${l}`, `agent:回复${i + 1}`]));
    const consoleTexts = consoleWs.messages(item.id).map((m) => m.text);
    expect(consoleTexts.indexOf(lines[0]!)).toBeLessThan(consoleTexts.indexOf('回复1'));
    expect(new Set(consoleWs.messages(item.id).map((m) => m.seq)).size).toBe(consoleWs.messages(item.id).length);

    const closed = await agent.call('POST', `/api/v1/agent/handoffs/${item.id}/close`, { resolution: 'answered' });
    expect(closed.status).toBe(200);
    const ask = await user.until((m) => m.from === 'system' && m.text.includes('打分'));
    expect(ask.quickReplies?.map((q) => q.postback)).toEqual(['rate:1', 'rate:2', 'rate:3', 'rate:4', 'rate:5']);
    expect((await user.say({ postback: 'rate:5' })).map((m) => m.text).join()).toContain('感谢您的评分');
    expect((await user.say('客服很耐心')).map((m) => m.text).join()).toContain('已回到智能客服');
    const h = await a.handoff.service.get(item.id);
    expect(h).toMatchObject({ status: 'closed', resolution: 'answered', rating: { score: 5, comment: '客服很耐心', stage: 'done' } });
    expect(await a.handoff.service.ratingsOf(h!.itemId!)).toEqual([expect.objectContaining({ handoffId: item.id, score: 5 })]);
    // The bot is back.
    expect((await user.say('水费怎么交')).length).toBeGreaterThan(0);
    const board = await agent.call('GET', '/api/v1/agent/dashboard');
    expect(board.body).toMatchObject({ total: 1, byReason: { 'user-request': 1 }, byPriority: { urgent: 0, complaint: 0, asked: 1 }, csatAvg: 5, agentsOnline: 1 });
    expect(board.body.waitAvgS).toBeGreaterThanOrEqual(0);
    consoleWs.close();
    user.close();
  });
});
