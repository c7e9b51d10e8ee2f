import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { expect, it } from 'vitest';
import { createFieldCipher } from '../../src/privacy/index.js';
import { createSqliteStores } from '../../src/store/index.js';

it('keeps outbox payloads sealed at rest under DATA_KEY and opens them for the dispatcher and the admin', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsa-ob-'));
  try {
    const stores = createSqliteStores({ dataDir: dir, cipher: createFieldCipher(randomBytes(32)) });
    const payload = { ticket: 'T-1', mobile: '13812345678' };
    await stores.commitTurn({
      conversationId: 'c1',
      session: { schemaVersion: 1, state: {}, updatedAt: new Date().toISOString() },
      messages: [{ from: 'user', text: '请回电', at: new Date().toISOString() }],
      applications: [],
      outbox: [{ id: 'callback:T-1', kind: 'callback', payload, createdAt: new Date().toISOString() }],
    });
    await stores.outbox.add([{ id: 'callback:T-2', kind: 'callback', payload: { ...payload, ticket: 'T-2' }, createdAt: new Date().toISOString() }]);
    expect((await stores.outbox.get('callback:T-1'))?.payload).toEqual(payload);
    const claimed = await stores.outbox.claim('me', 1_000, 10);
    expect(claimed.map((r) => r.payload.ticket).sort()).toEqual(['T-1', 'T-2']);
    await stores.outbox.failed('callback:T-1', 'me', 'HTTP 500', null);
    expect((await stores.outbox.dead())[0]?.payload).toEqual(payload);
    await stores.close();
    const db = new BetterSqlite3(join(dir, 'assistant.sqlite'), { readonly: true });
    const raw = JSON.stringify(db.prepare('SELECT entry FROM outbox').all());
    db.close();
    expect(raw).toContain('enc:v1:');
    expect(raw).not.toContain('13812345678');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
