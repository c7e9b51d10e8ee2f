import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/core/index.js';
import { openStores } from '../../src/main.js';
import { call, type Outcome } from './http-client.js';
import { startServer } from './server-process.js';

const TEXTS = ['水费怎么交', '停水了怎么办', '怎么开户', '发票怎么开', '水表坏了', '谢谢', '我要报装', '营业厅在哪里'];

interface Sent {
  conversationId: string;
  clientMessageId: string;
  outcome: Outcome;
}

describe('graceful shutdown on SIGTERM', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsa-shutdown-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('under load loses no acknowledged message, applies no refused one, and tells sockets to reconnect', async () => {
    const server = await startServer({ DATA_DIR: dataDir, STORE: 'sqlite', RATE_LIMIT_MAX: '1000000', KNOWLEDGE_WATCH: 'false', SHUTDOWN_GRACE_MS: '10000' });
    const api = `${server.url}/api/v1/conversations`;
    const sent: Sent[] = [];
    const starts: Outcome[] = [];
    let stopped = false;

    // A live socket: it must be told to reconnect, then closed with 1012.
    const opened = (await call(api, 'POST', {})) as Extract<Outcome, { kind: 'ok' }>;
    const live = opened.body as { conversationId: string; token: string };
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/conversations/${live.conversationId}/socket?token=${live.token}`);
    const events: string[] = [];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (d) => events.push((JSON.parse(String(d)) as { type: string }).type));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));

    /** A resident: opens a conversation and sends messages until the server is gone. */
    const worker = async (w: number) => {
      while (!stopped) {
        const s = await call(api, 'POST', {});
        starts.push(s);
        if (s.kind !== 'ok') break;
        const { conversationId, token } = s.body as { conversationId: string; token: string };
        for (let i = 0; i < 6 && !stopped; i++) {
          const clientMessageId = randomUUID();
          const outcome = await call(`${api}/${conversationId}/messages`, 'POST', { text: TEXTS[(w + i) % TEXTS.length], clientMessageId }, { authorization: `Bearer ${token}` });
          sent.push({ conversationId, clientMessageId, outcome });
          if (outcome.kind !== 'ok') return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    while (sent.filter((s) => s.outcome.kind === 'ok').length < 120) await new Promise((r) => setTimeout(r, 20));
    const exit = server.stop('SIGTERM');
    await Promise.all(workers.map((p) => p.finally(() => undefined)));
    stopped = true;
    expect(await exit).toBe(0);
    expect(await closed).toBe(1012);
    expect(events).toContain('reconnect');

    // Every request: a 2xx, a refused connection or a 503; never a 500 or a cut response.
    const all = [...starts, ...sent.map((s) => s.outcome)];
    const bad = all.filter((o) => !(o.kind === 'ok' || o.kind === 'refused' || (o.kind === 'status' && o.status === 503) || o.kind === 'reset'));
    expect(bad).toEqual([]);
    const acked = sent.filter((s) => s.outcome.kind === 'ok');
    const refused = sent.filter((s) => s.outcome.kind !== 'ok');
    expect(acked.length).toBeGreaterThanOrEqual(120);
    console.info(`shutdown under load: ${acked.length} messages acknowledged, ${refused.length} refused or cut (${refused.map((r) => r.outcome.kind === 'status' ? r.outcome.status : r.outcome.kind === 'reset' ? r.outcome.code : r.outcome.kind).join(', ')})`);
    expect(server.logs.some((l) => l.includes('"msg":"shut down"'))).toBe(true);

    const stores = await openStores(loadConfig({ DATA_DIR: dataDir, STORE: 'sqlite' }), createLogger('silent'));
    try {
      for (const s of acked) {
        // The acknowledged turn is stored whole: the user's message and the replies the client was given.
        const stored = await stores.findTurn(s.conversationId, s.clientMessageId);
        expect(stored, s.clientMessageId).not.toBeNull();
        const replies = (s.outcome as { body: { messages: Array<{ seq: number; text: string }> } }).body.messages;
        expect(stored!.slice(1).map((m) => m.seq)).toEqual(replies.map((m) => m.seq));
      }
      // A refused request changed nothing. A reset is a connection still in the kernel's accept queue when the
      // listener closed: the server never read it, so it too changed nothing (and a retry with its id is safe).
      for (const s of refused) expect(await stores.findTurn(s.conversationId, s.clientMessageId), `${s.outcome.kind} ${s.clientMessageId}`).toBeNull();
      // Transcripts hold whole turns only: every user message is followed by a reply.
      for (const id of new Set(sent.map((s) => s.conversationId))) {
        const t = await stores.transcripts.list(id, 0, 500);
        t.forEach((m, i) => {
          if (m.from === 'user') expect(t[i + 1]?.from, `${id} seq ${m.seq}`).toBe('bot');
        });
      }
    } finally {
      await stores.close();
    }
  }, 120_000);

  it('drains first with SHUTDOWN_DRAIN_MS: /readyz says 503 while messages are still answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsa-drain-'));
    const server = await startServer({ DATA_DIR: dir, STORE: 'sqlite', KNOWLEDGE_WATCH: 'false', SHUTDOWN_DRAIN_MS: '1500' });
    try {
      const api = `${server.url}/api/v1/conversations`;
      const { body } = (await call(api, 'POST', {})) as Extract<Outcome, { kind: 'ok' }>;
      const { conversationId, token } = body as { conversationId: string; token: string };
      expect((await call(`${server.url}/readyz`, 'GET')).kind).toBe('ok');
      const exit = server.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const ready = await call(`${server.url}/readyz`, 'GET');
      expect(ready).toMatchObject({ kind: 'status', status: 503, body: { status: 'draining' } });
      const sent = await call(`${api}/${conversationId}/messages`, 'POST', { text: '水费怎么交' }, { authorization: `Bearer ${token}` });
      expect(sent.kind).toBe('ok');
      expect(await exit).toBe(0);
      expect((await call(`${server.url}/healthz`, 'GET')).kind).toBe('refused');
    } finally {
      await server.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
