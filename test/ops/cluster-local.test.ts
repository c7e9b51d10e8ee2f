import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { clusterSuite, refused, startCluster } from './cluster.js';
import { call, type Outcome } from './http-client.js';

const suite = clusterSuite();

type Ok = Extract<Outcome, { kind: 'ok' }>;
interface Reply {
  messages: Array<{ seq: number; text: string; from: string }>;
  state: { mode: string; flowId?: string };
}

suite('scripts/cluster-local.sh', () => {
  it('runs two instances on Redis behind the proxy: a conversation continues across both, live socket included; exit stops everything', async () => {
    const cluster = await startCluster();
    const { url, ports } = cluster;
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
      await cluster.stop();
    }
    expect(cluster.output()).toContain('cluster stopped');
    for (const port of ports) expect(await refused(port), `port ${port}`).toBe(true);
  }, 150_000);
});
