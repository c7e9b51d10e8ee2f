import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { call, type Outcome } from './http-client.js';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis && process.env.CI !== 'true') console.warn('\n⚠ redis-server is not installed: skipping the cluster-local test (set CI=true to fail instead).\n');
const suite = hasRedis || process.env.CI === 'true' ? describe : describe.skip;

/** True when nothing listens on the port any more. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

type Ok = Extract<Outcome, { kind: 'ok' }>;
interface Reply {
  messages: Array<{ seq: number; text: string; from: string }>;
  state: { mode: string; flowId?: string };
}

suite('scripts/cluster-local.sh', () => {
  it('runs two instances on Redis behind the proxy: a conversation continues across both, live socket included; exit stops everything', async () => {
    const proc = spawn('bash', ['scripts/cluster-local.sh'], { env: { ...process.env, PROXY_PORT: '0', APP1_PORT: '0', APP2_PORT: '0', REDIS_PORT: '0', LOG_LEVEL: 'warn', VITEST: '', KNOWLEDGE_WATCH: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cluster did not start:\n${out}`)), 90_000);
      const onData = (d: Buffer) => {
        out += d.toString('utf8');
        const m = /cluster ready: (http:\/\/[\d.]+:\d+) \(instances on (\d+) and (\d+), redis on (\d+)\)/.exec(out);
        if (m) (clearTimeout(timer), resolve(m));
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      void exited.then(() => reject(new Error(`cluster exited:\n${out}`)));
    });
    const [, url, app1, app2, redis] = ready;
    const ports = [new URL(url!).port, app1, app2, redis].map(Number);
    try {
      const api = `${url}/api/v1/conversations`;
      const servedBy = new Set<string>();
      const created = (await call(api, 'POST', {})) as Ok;
      expect(created.kind).toBe('ok');
      servedBy.add(String(created.headers['x-served-by']));
      const { conversationId, token } = created.body as { conversationId: string; token: string };
      const auth = { authorization: `Bearer ${token}` };

      // A live socket through the proxy, held by one instance: it must see the turns the other instance runs.
      const seen = new Set<number>();
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/conversations/${conversationId}/socket?token=${token}`);
      ws.on('message', (d) => {
        const e = JSON.parse(String(d)) as { type: string; messages?: Array<{ seq: number }> };
        for (const m of e.messages ?? []) seen.add(m.seq);
      });
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));

      const turns: Array<[string, string]> = [
        ['我家被征收了，水费怎么结清、水表怎么销，帮我一起办', '要销户的水费户号'],
        ['1004567890', '户主（或产权人）叫什么名字'],
        ['陈建国', '身份证号码'],
        ['420111197808150015', '联系手机号'],
      ];
      let lastSeq = 0;
      for (const [text, asks] of turns) {
        const r = (await call(`${api}/${conversationId}/messages`, 'POST', { text }, auth)) as Ok;
        expect(r.kind, JSON.stringify(r)).toBe('ok');
        servedBy.add(String(r.headers['x-served-by']));
        const body = r.body as Reply;
        // The flow goes on where the other instance left it.
        expect(body.state).toMatchObject({ mode: 'flow', flowId: 'demolition' });
        expect(body.messages.at(-1)!.text).toContain(asks);
        lastSeq = body.messages.at(-1)!.seq;
      }
      expect(servedBy.size).toBe(2);

      const history = (await call(`${api}/${conversationId}/messages?after=0`, 'GET', undefined, auth)) as Ok;
      const messages = (history.body as Reply).messages;
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      expect(messages.filter((m) => m.from === 'user').length).toBe(turns.length);
      expect(JSON.stringify(messages)).not.toContain('420111197808150015');
      const deadline = Date.now() + 5_000;
      while (seen.size < lastSeq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      ws.close();
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
    expect(out).toContain('cluster stopped');
    for (const port of ports) expect(await refused(port), `port ${port}`).toBe(true);
  }, 150_000);
});
