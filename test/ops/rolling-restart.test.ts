import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { clusterSuite, refused, startCluster } from './cluster.js';
import { call, type Outcome } from './http-client.js';

const suite = clusterSuite();
const TEXTS = ['水费怎么交', '停水了怎么办', '怎么开户', '发票怎么开', '水表坏了', '营业厅在哪里'];

type Ok = Extract<Outcome, { kind: 'ok' }>;

/** A client that retries like the widget does: the same clientMessageId, after a short pause, on 502/503/cut. */
async function sendWithRetry(url: string, body: unknown, headers: Record<string, string>, tries = 8): Promise<{ outcome: Outcome; attempts: number }> {
  let outcome: Outcome = { kind: 'refused' };
  for (let i = 1; i <= tries; i++) {
    outcome = await call(url, 'POST', body, headers);
    if (outcome.kind === 'ok' || (outcome.kind === 'status' && outcome.status < 500)) return { outcome, attempts: i };
    await new Promise((r) => setTimeout(r, 100 * i));
  }
  return { outcome, attempts: tries };
}

suite('rolling restart on the local cluster', () => {
  it('SIGTERM to one instance under load through the proxy: every message answered once, sockets moved to the other instance', async () => {
    const cluster = await startCluster({ RATE_LIMIT_MAX: '1000000' });
    const api = `${cluster.url}/api/v1/conversations`;
    try {
      // Two sockets through the proxy: round robin puts one on each instance.
      const sockets = await Promise.all([0, 1].map(async () => {
        const created = (await call(api, 'POST', {})) as Ok;
        const { conversationId, token } = created.body as { conversationId: string; token: string };
        const ws = new WebSocket(`${cluster.url.replace('http', 'ws')}/api/v1/conversations/${conversationId}/socket?token=${token}`);
        const events: string[] = [];
        ws.on('message', (d) => events.push((JSON.parse(String(d)) as { type: string }).type));
        const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
        await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
        return { events, closed };
      }));

      const acked: Array<{ conversationId: string; token: string; seqs: number[] }> = [];
      const failures: Outcome[] = [];
      const conversations = new Map<string, { token: string; sent: number }>();
      let retried = 0;
      let stopAt = Infinity;
      const worker = async (w: number) => {
        while (acked.length < stopAt) {
          const created = await sendWithRetry(api, {}, {});
          if (created.outcome.kind !== 'ok') return void failures.push(created.outcome);
          const { conversationId, token } = created.outcome.body as { conversationId: string; token: string };
          conversations.set(conversationId, { token, sent: 0 });
          for (let i = 0; i < 5 && acked.length < stopAt; i++) {
            const r = await sendWithRetry(`${api}/${conversationId}/messages`, { text: TEXTS[(w + i) % TEXTS.length], clientMessageId: randomUUID() }, { authorization: `Bearer ${token}` });
            if (r.attempts > 1) retried++;
            if (r.outcome.kind !== 'ok') return void failures.push(r.outcome);
            conversations.get(conversationId)!.sent++;
            acked.push({ conversationId, token, seqs: ((r.outcome.body as { messages: Array<{ seq: number }> }).messages).map((m) => m.seq) });
          }
        }
      };
      const workers = Array.from({ length: 6 }, (_, w) => worker(w));
      while (acked.length < 60) await new Promise((r) => setTimeout(r, 20));
      process.kill(cluster.pids.app1, 'SIGTERM');
      const atKill = acked.length;
      // Instance 1 goes away; the proxy sends everything to instance 2.
      const deadline = Date.now() + 30_000;
      while (!(await refused(cluster.ports[1]!)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await refused(cluster.ports[1]!)).toBe(true);
      stopAt = acked.length + 60;
      await Promise.all(workers);
      console.info(`rolling restart: ${atKill} messages before SIGTERM, ${acked.length} in all, ${retried} needed a client retry, ${failures.length} failed`);
      expect(failures).toEqual([]);

      // Every conversation holds exactly the acknowledged turns: none lost, none run twice.
      for (const [id, c] of conversations) {
        const h = (await call(`${api}/${id}/messages?after=0&limit=500`, 'GET', undefined, { authorization: `Bearer ${c.token}` })) as Ok;
        const messages = (h.body as { messages: Array<{ seq: number; from: string }> }).messages;
        expect(messages.filter((m) => m.from === 'user').length, id).toBe(c.sent);
        expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
      }

      // The socket held by instance 1 was told to reconnect and closed with 1012; the other stays open.
      const moved = sockets.filter((s) => s.events.includes('reconnect'));
      expect(moved.length).toBe(1);
      expect(await moved[0]!.closed).toBe(1012);
    } finally {
      await cluster.stop();
    }
  }, 180_000);
});
