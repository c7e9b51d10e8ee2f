import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, expect, it } from 'vitest';
import { createDispatcher, type Dispatcher } from '../../src/backoffice/index.js';
import { createLogger } from '../../src/core/index.js';
import { createRedisStores, type Stores } from '../../src/store/index.js';
import { redisSuite } from '../helpers/redis.js';
import { FakeBackoffice } from './fake-backoffice.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-test-bo-${process.pid}-${randomUUID().slice(0, 8)}`;
const SECRET = 'backoffice-shared-secret-0123456789';
const logger = createLogger('silent');
const suite = await redisSuite('back office on Redis', url, prefix);

suite('the outbox dispatched by two instances sharing Redis', () => {
  const opened: Stores[] = [];
  const dispatchers: Dispatcher[] = [];
  let office: FakeBackoffice;

  afterAll(async () => {
    await Promise.all(dispatchers.map((d) => d.stop()));
    await Promise.all(opened.map((s) => s.close()));
    await office?.close();
    const client = createClient({ url });
    client.on('error', () => undefined);
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 200 })) if (keys.length) await client.del(keys);
    await client.close();
  });

  it('sends each of 30 entries exactly once to a back office that fails its first tries', async () => {
    office = await new FakeBackoffice(SECRET).listen();
    office.failFirst = 5;
    const [a, b] = await Promise.all([createRedisStores(url, { prefix }), createRedisStores(url, { prefix })]);
    opened.push(a!, b!);
    const ids = Array.from({ length: 30 }, (_, i) => `callback:${i}`);
    await a!.outbox.add(ids.map((id) => ({ id, kind: 'callback' as const, payload: { ticket: id, mobile: '138****8000' }, createdAt: new Date().toISOString() })));
    for (const [stores, owner] of [[a!, 'one'], [b!, 'two']] as const) {
      const d = createDispatcher({ outbox: stores.outbox, applications: stores.applications, logger, url: office.url, secret: SECRET, maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 50, intervalMs: 5, batch: 4, owner });
      dispatchers.push(d);
      d.start();
    }
    const end = Date.now() + 15_000;
    while (office.accepted().length < ids.length && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const accepted = office.accepted().map((c) => c.json.id).sort();
    expect(accepted).toEqual([...ids].sort());
    expect(office.calls.every((c) => c.signatureError === null)).toBe(true);
    expect(office.calls.filter((c) => c.status === 500)).toHaveLength(5);
    expect(await a!.outbox.counts()).toEqual({ pending: 0, dead: 0 });
    expect(office.accepted()[0]!.json.data).toMatchObject({ ticket: expect.stringMatching(/^callback:/) });
  }, 30_000);
});
