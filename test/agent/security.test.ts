import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisSuite } from '../helpers/redis.js';
import { AgentClient, redisPrefix, startInstance, WidgetUser, type Instance } from './harness.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = redisPrefix(url, 'handoff-sec');
const suite = await redisSuite('agent API security on Redis', url, keys.prefix);

const ROUTES: [string, string][] = [
  ['POST', '/api/v1/agent/logout'],
  ['GET', '/api/v1/agent/me'],
  ['POST', '/api/v1/agent/state'],
  ['GET', '/api/v1/agent/agents'],
  ['GET', '/api/v1/agent/queue'],
  ['POST', '/api/v1/agent/handoffs/h-x/claim'],
  ['GET', '/api/v1/agent/handoffs/h-x'],
  ['POST', '/api/v1/agent/handoffs/h-x/messages'],
  ['POST', '/api/v1/agent/handoffs/h-x/transfer'],
  ['POST', '/api/v1/agent/handoffs/h-x/close'],
  ['POST', '/api/v1/agent/handoffs/h-x/reveal'],
  ['GET', '/api/v1/agent/callbacks'],
  ['POST', '/api/v1/agent/callbacks'],
  ['POST', '/api/v1/agent/callbacks/CB20261201-0001/status'],
  ['GET', '/api/v1/agent/kb/search?q=过户'],
  ['GET', '/api/v1/agent/applications/WS20261201-0001'],
  ['GET', '/api/v1/agent/dashboard'],
];

suite('agent API security on Redis', () => {
  let a: Instance;
  beforeAll(async () => {
    a = await startInstance({ redis: { url, prefix: keys.prefix }, loginRateMax: 30 });
    await a.handoff.service.agents.add('agent.a', '甲', 'password-a-1');
    await a.handoff.service.agents.add('agent.b', '乙', 'password-b-1');
  });
  afterAll(async () => {
    await a?.close();
    await keys.cleanup();
  });

  it('every route without a session answers 401 AGENT_LOGIN_REQUIRED, and so does the console socket', async () => {
    const anon = new AgentClient(a.url);
    for (const [method, path] of ROUTES) {
      const r = await anon.call(method, path, method === 'POST' ? {} : undefined);
      expect([path, r.status, r.body?.error?.code]).toEqual([path, 401, 'AGENT_LOGIN_REQUIRED']);
    }
    await expect(anon.socket()).rejects.toThrow(/401/);
  });

  it('a POST without the CSRF token is refused with 403 CSRF_INVALID, login included; a forged cookie is no session', async () => {
    const agent = new AgentClient(a.url);
    await agent.call('GET', '/api/v1/agent/csrf');
    const noToken = await agent.call('POST', '/api/v1/agent/login', { login: 'agent.a', password: 'password-a-1' });
    expect([noToken.status, noToken.body.error.code]).toEqual([403, 'CSRF_INVALID']);
    expect((await agent.login('agent.a', 'password-a-1')).status).toBe(200);
    const r = await agent.call('POST', '/api/v1/agent/state', { state: 'busy' }, { csrf: false });
    expect([r.status, r.body.error.code]).toEqual([403, 'CSRF_INVALID']);
    const wrong = Object.assign(new AgentClient(a.url), { cookie: agent.cookie, csrf: 'x'.repeat(40) });
    expect((await wrong.call('POST', '/api/v1/agent/state', { state: 'busy' })).status).toBe(403);
    const forged = Object.assign(new AgentClient(a.url), { cookie: 'wsa_agent=AAAA;' });
    expect((await forged.call('GET', '/api/v1/agent/me')).status).toBe(401);
  });

  it('the cookie is httpOnly, SameSite=Strict and encrypted; logout ends the session on the server', async () => {
    await new AgentClient(a.url).call('GET', '/api/v1/agent/csrf');
    const res = await fetch(`${a.url}/api/v1/agent/csrf`);
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const agent = new AgentClient(a.url);
    await agent.login('agent.b', 'password-b-1');
    expect(agent.cookie).not.toContain('agent.b');
    const stolen = agent.cookie;
    const ws = await agent.socket();
    const closed = new Promise<number>((r) => ws.ws.once('close', (code) => r(code)));
    expect((await agent.call('POST', '/api/v1/agent/logout')).status).toBe(200);
    expect(await closed, 'the open console socket ends with the session').toBe(4401);
    const replay = Object.assign(new AgentClient(a.url), { cookie: stolen, csrf: agent.csrf });
    expect((await replay.call('GET', '/api/v1/agent/me')).status).toBe(401);
  });

  it('wrong passwords get 401 LOGIN_FAILED and logins are rate limited', async () => {
    // Also with the server-wide limiter on (as in production), whose loopback exemption must not cover logins.
    for (const rateLimitMax of [undefined, 1000]) {
      const b = await startInstance({ redis: { url, prefix: keys.prefix }, loginRateMax: 4, ...(rateLimitMax ? { rateLimitMax } : {}) });
      try {
        const agent = new AgentClient(b.url);
        const codes: number[] = [];
        for (let i = 0; i < 4; i++) codes.push((await agent.login('agent.a', `wrong-${i}`)).status);
        expect(codes.slice(0, 2)).toEqual([401, 401]);
        const limited = await agent.call('POST', '/api/v1/agent/login', { login: 'agent.a', password: 'password-a-1' });
        expect([limited.status, limited.body.error.code]).toEqual([429, 'RATE_LIMITED']);
      } finally {
        await b.close();
      }
    }
  });

  it('an agent cannot read or write a handoff they have not claimed; reveal is audited (agent, time, field)', async () => {
    const x = new AgentClient(a.url);
    const y = new AgentClient(a.url);
    expect((await x.login('agent.a', 'password-a-1')).status).toBe(200);
    expect((await y.login('agent.b', 'password-b-1')).status).toBe(200);
    const user = new WidgetUser(a.url);
    await user.start();
    for (const text of ['准备装修，用水方面需要办些什么', '需要', '下周三', '不需要', '不需要', '1002345678', '我要找人工客服']) await user.say(text);
    const item = (await x.call('GET', '/api/v1/agent/queue')).body.items.find((i: any) => i.conversationId === user.id);
    expect(item.summary).toContain('办理中');
    expect(item.summary).not.toContain('1002345678');
    for (const [method, path, body] of [
      ['GET', `/api/v1/agent/handoffs/${item.id}`, undefined],
      ['POST', `/api/v1/agent/handoffs/${item.id}/messages`, { text: 'hi' }],
      ['POST', `/api/v1/agent/handoffs/${item.id}/close`, { resolution: 'answered' }],
      ['POST', `/api/v1/agent/handoffs/${item.id}/reveal`, { field: 'flow.accountNumber' }],
    ] as const) {
      const r = await x.call(method, path, body);
      expect([path, r.status, r.body.error.code]).toEqual([path, 403, 'HANDOFF_NOT_YOURS']);
    }
    expect((await x.call('GET', '/api/v1/agent/handoffs/h-none')).status).toBe(404);
    const claim = await y.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`);
    expect(claim.status).toBe(200);
    expect(JSON.stringify(claim.body)).not.toContain('1002345678');
    const secret = claim.body.handoff.secrets[0];
    expect(secret.masked).toMatch(/^100\*+5678$/);
    expect((await x.call('POST', `/api/v1/agent/handoffs/${item.id}/reveal`, { field: secret.name })).status).toBe(403);
    expect((await x.call('POST', `/api/v1/agent/handoffs/${item.id}/claim`)).status).toBe(409);
    const before = Date.now();
    const revealed = await y.call('POST', `/api/v1/agent/handoffs/${item.id}/reveal`, { field: secret.name });
    expect(revealed.body).toMatchObject({ field: secret.name, value: '1002345678', audit: { agent: 'agent.b', field: secret.name, handoffId: item.id } });
    const audit = await a.handoff.service.auditOf(item.id);
    expect(audit).toHaveLength(1);
    expect(Date.parse(audit[0]!.at)).toBeGreaterThanOrEqual(before - 1000);
    expect((await y.call('GET', `/api/v1/agent/handoffs/${item.id}`)).body.audit).toEqual(audit);
    expect((await y.call('POST', `/api/v1/agent/handoffs/${item.id}/reveal`, { field: 'nope' })).status).toBe(400);
    // Bad input: 400 in the usual shape.
    const bad = await y.call('POST', `/api/v1/agent/handoffs/${item.id}/messages`, { text: '' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    expect((await y.call('POST', `/api/v1/agent/handoffs/${item.id}/close`, { resolution: 'made-up' })).status).toBe(400);
    // Transfer with a note: the other agent now holds it, and the first one no longer does.
    const t = await y.call('POST', `/api/v1/agent/handoffs/${item.id}/transfer`, { to: 'agent.a', note: '户号已核实' });
    expect(t.body.handoff).toMatchObject({ agent: 'agent.a', transfers: [expect.objectContaining({ from: 'agent.b', to: 'agent.a', note: '户号已核实' })] });
    expect((await y.call('GET', `/api/v1/agent/handoffs/${item.id}`)).status).toBe(403);
    expect((await x.call('GET', `/api/v1/agent/handoffs/${item.id}`)).status).toBe(200);
    expect((await a.service.history(user.id)).at(-1)!.text).toContain('已为您转接给人工客服 甲');
  });

  it('agent assist: knowledge search on the same understanding, and the masked application by reference', async () => {
    const y = new AgentClient(a.url);
    expect((await y.login('agent.b', 'password-b-1')).status).toBe(200);
    const found = await y.call('GET', `/api/v1/agent/kb/search?q=${encodeURIComponent('过户要带什么材料')}`);
    expect(found.status).toBe(200);
    expect(found.body.results[0].title).toMatch(/过户/);
    expect(found.body.results[0].text.length).toBeGreaterThan(20);
    expect((await y.call('GET', '/api/v1/agent/applications/WS20260101-9999')).body.error.code).toBe('APPLICATION_NOT_FOUND');
    expect((await y.call('GET', '/api/v1/agent/applications/abc')).status).toBe(400);
  });
});
