import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/index.js';
import { createMemoryBus, createRedisBus, type MessageBus } from '../../src/delivery/index.js';
import { redisSuite } from '../helpers/redis.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-bus-${process.pid}-${randomUUID().slice(0, 8)}`;

const msg = (seq: number, text = `m${seq}`): Message => ({ seq, from: 'bot', at: new Date(0).toISOString(), text });

/** Resolves with the first `n` deliveries a subscription gets, or rejects after `ms`. */
function collect<T>(subscribe: (push: (v: T) => void) => () => void, n: number, ms = 2_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`got ${got.length} of ${n} deliveries`));
    }, ms);
    const off = subscribe((v) => {
      got.push(v);
      if (got.length === n) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });
}

/** What every bus does, memory or Redis: `pair()` gives two buses of one deployment (two instances). */
function busContract(pair: () => Promise<[MessageBus, MessageBus]>, settle: () => Promise<void>) {
  it("delivers a conversation's messages to its subscribers only, in publish order", async () => {
    const [a, b] = await pair();
    const id = `c-${randomUUID()}`;
    const other: Message[][] = [];
    const offOther = b.subscribe(`${id}-other`, (m) => other.push(m));
    const got = collect<Message[]>((push) => b.subscribe(id, push), 2);
    await settle();
    await a.publish(id, [msg(1), msg(2)]);
    await a.publish(id, [msg(3, '人工客服：您好 😀 <b>')]);
    expect((await got).map((batch) => batch.map((m) => m.seq))).toEqual([[1, 2], [3]]);
    expect((await got)[1]![0]!.text).toBe('人工客服：您好 😀 <b>');
    expect(other).toEqual([]);
    offOther();
  });

  it('subscribeAll sees every conversation with its id', async () => {
    const [a, b] = await pair();
    const ids = [`c-${randomUUID()}`, `telegram:${Date.now()}`];
    const got = collect<[string, Message[]]>((push) => b.subscribeAll((id, m) => push([id, m])), 2);
    await settle();
    await a.publish(ids[0]!, [msg(1)]);
    await a.publish(ids[1]!, [msg(7)]);
    expect((await got).map(([id, m]) => [id, m[0]!.seq])).toEqual([[ids[0], 1], [ids[1], 7]]);
  });

  it('stops delivering after unsubscribe, and one failing listener does not stop the others', async () => {
    const [a, b] = await pair();
    const id = `c-${randomUUID()}`;
    const seen: number[] = [];
    const off = b.subscribe(id, (m) => seen.push(...m.map((x) => x.seq)));
    const offBroken = b.subscribe(id, () => {
      throw new Error('listener bug');
    });
    const third = collect<Message[]>((push) => b.subscribe(id, push), 1);
    await settle();
    await a.publish(id, [msg(1)]);
    await third;
    await sleep(50);
    expect(seen).toEqual([1]);
    off();
    offBroken();
    await settle();
    await a.publish(id, [msg(2)]);
    await sleep(100);
    expect(seen).toEqual([1]);
  });

  it('gives each subscriber its own copy', async () => {
    const [a, b] = await pair();
    const id = `c-${randomUUID()}`;
    const first = collect<Message[]>((push) => b.subscribe(id, (m) => { m[0]!.text = 'changed'; push(m); }), 1);
    const second = collect<Message[]>((push) => b.subscribe(id, push), 1);
    await settle();
    await a.publish(id, [msg(1, 'original')]);
    await first;
    expect((await second)[0]![0]!.text).toBe('original');
  });
}

describe('memory bus', () => {
  const bus = createMemoryBus();
  afterAll(() => bus.close());
  busContract(async () => [bus, bus], async () => {});
});

const suite = await redisSuite('redis bus', url, prefix);

suite('redis bus', () => {
  const opened: MessageBus[] = [];
  const open = async () => {
    const bus = await createRedisBus(url, { prefix });
    opened.push(bus);
    return bus;
  };
  afterAll(async () => {
    await Promise.all(opened.map((b) => b.close()));
  });

  // A subscription reaches Redis asynchronously; a short pause stands for "the socket was already open".
  busContract(async () => [await open(), await open()], () => sleep(100));

  it('keeps deployments with different prefixes apart', async () => {
    const a = await open();
    const other = await createRedisBus(url, { prefix: `${prefix}-other` });
    opened.push(other);
    const id = `c-${randomUUID()}`;
    const leaked: Message[][] = [];
    other.subscribe(id, (m) => leaked.push(m));
    other.subscribeAll((_id, m) => leaked.push(m));
    const got = collect<Message[]>((push) => a.subscribe(id, push), 1);
    await sleep(100);
    await a.publish(id, [msg(1)]);
    await got;
    await sleep(100);
    expect(leaked).toEqual([]);
  });

  it('fails fast with a readable error when Redis does not answer', async () => {
    const started = Date.now();
    await expect(createRedisBus('redis://127.0.0.1:1', { connectTimeoutMs: 500 })).rejects.toThrow(/delivery bus cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
