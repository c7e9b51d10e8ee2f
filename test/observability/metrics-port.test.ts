import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, type Outcome } from '../ops/http-client.js';
import { startServer, type ServerProcess } from '../ops/server-process.js';

describe('/metrics on METRICS_PORT', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsa-metrics-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is served on the internal port only, with process metrics and the turns counted', async () => {
    server = await startServer({ DATA_DIR: dir, METRICS_PORT: '0', KNOWLEDGE_WATCH: 'false' });
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const api = `${server.url}/api/v1/conversations`;
    const { body } = (await call(api, 'POST', {})) as Extract<Outcome, { kind: 'ok' }>;
    const { conversationId, token } = body as { conversationId: string; token: string };
    await call(`${api}/${conversationId}/messages`, 'POST', { text: '停水了怎么办' }, { authorization: `Bearer ${token}` });
    expect((await call(`${server.url}/metrics`, 'GET')).kind === 'status').toBe(true);
    const m = (await call(`${server.metricsUrl}/metrics`, 'GET')) as Extract<Outcome, { kind: 'ok' }>;
    expect(m.kind).toBe('ok');
    const text = String(m.body);
    expect(text).toMatch(/^wsa_messages_total\{channel="web",outcome="engine"\} 1$/m);
    expect(text).toMatch(/^wsa_turn_duration_seconds_count\{channel="web"\} 1$/m);
    expect(text).toMatch(/^wsa_process_resident_memory_bytes \d+/m);
  }, 90_000);
});
