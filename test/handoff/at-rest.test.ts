import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createConversationService, maskerFor } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { createHandoff, type HandoffBackend } from '../../src/handoff/index.js';
import { createFieldCipher, SEALED_PREFIX } from '../../src/privacy/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { knowledge } from '../agent/harness.js';
import { redisSuite } from '../helpers/redis.js';

const MOBILE = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const dir = mkdtempSync(join(tmpdir(), 'wsa-handoff-rest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A resident asks for a person, gives a mobile for a callback and picks a slot: the mobile then sits in the handoff
 * (for the audited reveal) and in the callback ticket. Returns what the agents' side reads back.
 */
async function callbackJourney(backend: HandoffBackend) {
  const { kb, classifier } = knowledge();
  const logger = createLogger('silent');
  const stores = createMemoryStores();
  const cipher = createFieldCipher(randomBytes(32));
  const handoff = await createHandoff({ backend, kb, knowledgeDir: 'knowledge', stores, logger, mask: maskerFor(kb), cipher, settings: { maxWaitS: 300, claimGraceS: 60, avgHandleS: 240, sessionTtlS: 3600 }, sweepMs: 60_000 });
  try {
    const service = createConversationService({ kb, classifier, stores, logger, middleware: handoff.middleware, effects: handoff.effects });
    handoff.attach(service);
    await handoff.service.agents.add('agent.r', '乙', 'password-r-1');
    const { conversationId } = await service.start();
    await service.send(conversationId, { text: '转人工' });
    await service.send(conversationId, { postback: 'handoff:callback' });
    await service.send(conversationId, { text: MOBILE });
    const h = (await handoff.service.activeFor(conversationId))!;
    const last = await service.send(conversationId, { postback: 'handoff:slot:0' });
    // What the service reads back: the handoff's raw value (the audited reveal's source), the tickets for the console.
    const revealed = (await handoff.service.get(h.id))!.raw['callback.mobile'];
    return { revealed, reply: last.messages.map((m) => m.text).join('\n'), tickets: await handoff.service.callbacks() };
  } finally {
    await handoff.close();
  }
}

describe('personal numbers in the handoff store (SQLite)', () => {
  it('are ciphertext in every row of its files, and plain to the service (reveal) and masked to agents', async () => {
    const folder = join(dir, 'sqlite');
    const seen = await callbackJourney({ kind: 'sqlite', dir: folder });
    expect(seen.revealed).toBe(MOBILE);
    expect(seen.tickets).toHaveLength(1);
    expect(seen.tickets[0]!.mobile).toBe(`${MOBILE.slice(0, 3)}****${MOBILE.slice(-4)}`);
    expect(seen.reply).not.toContain(MOBILE);
    let sealedFields = 0;
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.sqlite'))) {
      const db = new BetterSqlite3(join(folder, file), { readonly: true });
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) {
        for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) {
          const text = JSON.stringify(row);
          expect(text, `${file} ${name}`).not.toContain(MOBILE);
          sealedFields += text.split(SEALED_PREFIX).length - 1;
        }
      }
      db.close();
    }
    // The handoff's raw value, its callback mobile and the ticket's mobile.
    expect(sealedFields).toBeGreaterThanOrEqual(3);
  });
});

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-hrest-${randomBytes(4).toString('hex')}`;
const redisDescribe = await redisSuite('handoff at rest', url, prefix);

redisDescribe('personal numbers in the handoff store (Redis)', () => {
  it('are ciphertext in every key and value under the prefix', async () => {
    const seen = await callbackJourney({ kind: 'redis', url, prefix });
    expect(seen.revealed).toBe(MOBILE);
    expect(seen.tickets[0]!.mobile).not.toContain(MOBILE);
    const client = createClient({ url });
    await client.connect();
    try {
      let sealedFields = 0;
      for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 200 })) {
        for (const key of keys) {
          const type = await client.type(key);
          const dump = type === 'string' ? await client.get(key) : type === 'hash' ? JSON.stringify(await client.hGetAll(key)) : type === 'list' ? JSON.stringify(await client.lRange(key, 0, -1)) : type === 'zset' ? JSON.stringify(await client.zRange(key, 0, -1)) : type === 'stream' ? JSON.stringify(await client.xRange(key, '-', '+')) : '';
          expect(`${key} ${dump}`, key).not.toContain(MOBILE);
          sealedFields += (dump ?? '').split(SEALED_PREFIX).length - 1;
        }
        await client.del(keys);
      }
      expect(sealedFields).toBeGreaterThanOrEqual(3);
    } finally {
      await client.close();
    }
  });
});
