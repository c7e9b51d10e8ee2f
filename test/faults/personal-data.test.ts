import { randomUUID, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationService } from '../../src/conversation/index.js';
import type { Logger, Message } from '../../src/core/index.js';
import { checkIdCard } from '../../src/dialogue/slots.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../../src/nlu/index.js';
import { createFieldCipher, SEALED_PREFIX } from '../../src/privacy/index.js';
import { buildServer } from '../../src/server/index.js';
import { createRedisStores, createSqliteStores, type Stores } from '../../src/store/index.js';
import { redisAnswers } from '../helpers/redis.js';

/** A valid 18-digit 身份证号 (GB 11643 check digit) for a Wuhan 1990 birth date. */
function idCard(): string {
  const base = `42010219900307${String(100 + Math.floor(Math.random() * 899))}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(base[i]), 0);
  const id = base + '10X98765432'[sum % 11];
  if (!checkIdCard(id).ok) throw new Error(`generated an invalid id ${id}`);
  return id;
}

const ID = idCard();
const MOBILE = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const ACCOUNT = `100${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
const RAW = [ID, MOBILE, ACCOUNT];

let kb: KnowledgeBase;
let classifier: Classifier;
beforeAll(() => {
  kb = loadKnowledge();
  classifier = createClassifier(kb);
});

/** A logger whose every line (trace and up) is kept for inspection. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace', base: undefined }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** Plays the second-hand-house flow to a submitted application with the real-format numbers; returns its ref. */
async function submitApplication(app: FastifyInstance): Promise<string> {
  const start = await app.inject({ method: 'POST', url: '/api/v1/conversations' });
  expect(start.statusCode).toBe(201);
  const { conversationId, token } = start.json() as { conversationId: string; token: string };
  let last: Message[] = [];
  const send = async (payload: { text: string } | { postback: string }) => {
    const res = await app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/messages`, payload, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode, res.body).toBe(200);
    last = (res.json() as { messages: Message[] }).messages;
    return res.json() as { messages: Message[]; state: { applicationRef?: string } };
  };
  const click = async (title: string) => {
    const button = last.flatMap((m) => m.quickReplies ?? []).find((q) => q.title === title);
    expect(button, `button ${title}`).toBeDefined();
    return send({ postback: button!.postback });
  };
  await send({ text: '我买了二手房，过户和代扣一起办' });
  await send({ text: ACCOUNT });
  await send({ text: '张三' });
  await send({ text: ID });
  await send({ text: MOBILE });
  // The opening message already says 代扣 (prefilled, not asked), and 过户 has no 可容缺 materials:
  // 结清 yes, 5 人及以上 no, then the summary.
  await click('是');
  const summary = await click('否');
  expect(JSON.stringify(summary.messages)).toContain('确认提交');
  const done = await click('确认提交');
  expect(done.state.applicationRef).toMatch(/^WS\d{8}-\d{4}$/);
  // The replies show the numbers masked.
  for (const raw of RAW) expect(JSON.stringify(done.messages)).not.toContain(raw);
  return done.state.applicationRef!;
}

/** Every place a raw number shows up in `dump` (text of rows or keys), labelled. */
function leaks(dump: Array<[string, string]>): string[] {
  return dump.flatMap(([where, text]) => RAW.filter((raw) => text.includes(raw)).map((raw) => `${where} contains ${raw.slice(0, 3)}…`));
}

/** The application reads back whole through the store: it keeps the real values. */
async function checkReadBack(stores: Stores, ref: string): Promise<void> {
  const app = await stores.applications.get(ref);
  expect(app?.mobile).toBe(MOBILE);
  expect(Object.values(app!.answers)).toEqual(expect.arrayContaining([ID, MOBILE, ACCOUNT]));
}

/** Raw numbers only as ciphertext in the application records at rest, and never in logs. */
function checkAtRest(lines: string[], appDump: Array<[string, string]>): void {
  expect(appDump.length).toBeGreaterThan(0);
  expect(appDump.some(([, text]) => text.includes(SEALED_PREFIX))).toBe(true);
  expect(leaks(appDump)).toEqual([]);
  expect(lines.length).toBeGreaterThan(0);
  expect(leaks(lines.map((l, i) => [`log line ${i}`, l]))).toEqual([]);
}

describe('personal numbers at rest: SQLite', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsa-pd-'));
  let stores: Stores;
  let app: FastifyInstance;
  let lines: string[];
  afterAll(async () => {
    await app?.close();
    await stores?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps them only encrypted in application rows, masked in sessions and transcripts, and out of every log line', async () => {
    const captured = capturingLogger();
    lines = captured.lines;
    stores = createSqliteStores({ dataDir, cipher: createFieldCipher(randomBytes(32)) });
    const service = createConversationService({ kb, classifier, stores, logger: captured.logger });
    app = await buildServer({ service, stores, logger: captured.logger, hotline: kb.utility.hotline });
    const ref = await submitApplication(app);
    const lookup = await app.inject({ method: 'GET', url: `/api/v1/applications/${ref}?mobile=${MOBILE}` });
    expect(lookup.statusCode).toBe(200);
    expect(lookup.headers['cache-control']).toBe('no-store');
    for (const raw of RAW) expect(lookup.body).not.toContain(raw);
    await checkReadBack(stores, ref);
    // The file is locked to its process while open.
    await app.close();
    await stores.close();

    const db = new BetterSqlite3(join(dataDir, 'assistant.sqlite'), { readonly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    const rows = (table: string) => (db.prepare(`SELECT * FROM ${table}`).all() as object[]).map((r, i): [string, string] => [`${table} row ${i}`, JSON.stringify(r)]);
    // Every table, transcripts and the clientMessageId index included: the redaction stage masks what users typed.
    const atRest = tables.flatMap(rows);
    expect(tables).toEqual(expect.arrayContaining(['applications', 'sessions', 'messages']));
    checkAtRest(lines, rows('applications'));
    expect(leaks(atRest)).toEqual([]);
    db.close();
  });

});

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `wsa-pd-${randomUUID().slice(0, 8)}`;
const redisUp = await redisAnswers(redisUrl, prefix);
if (!redisUp && process.env.CI !== 'true') console.warn(`\n⚠ Redis at ${redisUrl} did not answer: skipping the Redis personal-data test.\n`);

(redisUp || process.env.CI === 'true' ? describe : describe.skip)('personal numbers at rest: Redis', () => {
  let stores: Stores;
  let app: FastifyInstance;
  const raw = createClient({ url: redisUrl });
  afterAll(async () => {
    await app?.close();
    await stores?.close();
    // Clean up even when the test failed before it connected.
    if (!raw.isOpen) await raw.connect();
    for await (const keys of raw.scanIterator({ MATCH: `${prefix}:*`, COUNT: 200 })) if (keys.length) await raw.del(keys);
    await raw.close();
  });

  it('keeps them only encrypted or masked in every key and value, transcripts included, and out of every log line', async () => {
    const captured = capturingLogger();
    stores = await createRedisStores(redisUrl, { prefix, cipher: createFieldCipher(randomBytes(32)) });
    const service = createConversationService({ kb, classifier, stores, logger: captured.logger });
    app = await buildServer({ service, stores, logger: captured.logger, hotline: kb.utility.hotline });
    const ref = await submitApplication(app);
    await raw.connect();
    const dump: Array<[string, string]> = [];
    for await (const keys of raw.scanIterator({ MATCH: `${prefix}:*`, COUNT: 200 })) {
      for (const key of keys) {
        const type = await raw.type(key);
        const value =
          type === 'string' ? await raw.get(key) : type === 'list' ? await raw.lRange(key, 0, -1) : type === 'hash' ? await raw.hGetAll(key) : type === 'zset' ? await raw.zRange(key, 0, -1) : `(${type})`;
        dump.push([key, `${key} ${JSON.stringify(value)}`]);
      }
    }
    expect(dump.some(([k]) => k.startsWith(`${prefix}:session:`))).toBe(true);
    const appDump = dump.filter(([k]) => k.startsWith(`${prefix}:app:`));
    await checkReadBack(stores, ref);
    checkAtRest(captured.lines, appDump);
    expect(dump.some(([k]) => k.startsWith(`${prefix}:transcript:`))).toBe(true);
    expect(leaks(dump)).toEqual([]);
  });

});
