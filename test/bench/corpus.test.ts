/**
 * The benchmark corpus (bench/lib/corpus.ts) and its driver: enough distinct texts, warm-up apart from the measured
 * texts, and every scripted dialogue played through the real app (embedded SQLite in a temporary folder) without a
 * click on a button the bot did not offer, each flow ending with an application reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCorpus, MIN_TEXTS, typedTexts, type Conversation, type Corpus } from '../../bench/lib/corpus.js';
import { createHttpClient, driveConversations, non2xx, type DriveResult } from '../../bench/lib/driver.js';
import { LatencyHistogram } from '../../bench/lib/histogram.js';
import { assistantApp } from '../../bench/lib/server-child.js';
import { checkIdCard, checkMobile } from '../../src/dialogue/index.js';
import { loadKnowledge } from '../../src/knowledge/index.js';

const kb = loadKnowledge();
const corpus: Corpus = createCorpus({ kb });

/** Plays a fixed list of conversations once, two users at a time, recording the references each obtained. */
async function playAll(address: string, list: Conversation[]): Promise<{ r: DriveResult; refs: Map<Conversation, string[]> }> {
  const client = createHttpClient(address, 2);
  const queue = [...list];
  const refs = new Map<Conversation, string[]>();
  try {
    const r = await driveConversations({ client, connections: 2, durationMs: 60_000, next: () => queue.shift(), onFinished: (c, got) => refs.set(c, got) });
    return { r, refs };
  } finally {
    client.close();
  }
}

describe('benchmark corpus', () => {
  it(`holds at least ${MIN_TEXTS} distinct texts, and warm-up never sends a measured one`, () => {
    expect(new Set(corpus.texts).size).toBe(corpus.texts.length);
    expect(corpus.texts.length).toBeGreaterThanOrEqual(MIN_TEXTS);
    const warm = createCorpus({ kb, part: 'warmup' });
    const measure = createCorpus({ kb, part: 'measure' });
    const measured = new Set([...measure.guideTexts, ...measure.flowTexts, ...measure.handoffTexts]);
    const warmTexts = [...warm.guideTexts, ...warm.flowTexts, ...warm.handoffTexts];
    expect(warmTexts.length).toBeGreaterThan(100);
    expect(warmTexts.filter((t) => measured.has(t))).toEqual([]);
    // Generated conversations draw from the part's own texts; the scripted dialogues are played in both (many times
    // each in a run anyway, with fresh personal numbers).
    const scripted = new Set(corpus.scripts.map((s) => s.name));
    const generated = Array.from({ length: 300 }, () => warm.next()).filter((c) => !scripted.has(c.name));
    expect(generated.length).toBeGreaterThan(150);
    for (const c of generated) for (const t of typedTexts(c)) expect(measured.has(t), t).toBe(false);
  });

  it('gives every conversation of a script its own valid personal numbers', () => {
    const script = corpus.scripts.find((s) => s.kind === 'flow' && typedTexts(s).some((t) => checkIdCard(t).ok))!;
    expect(script, 'a flow script typing an ID number').toBeDefined();
    const [a, b] = [corpus.fresh(script), corpus.fresh(script)];
    const ids = (c: Conversation) => typedTexts(c).filter((t) => /^\d{17}[\dX]$/.test(t));
    expect(ids(a).length).toBeGreaterThan(0);
    for (const id of [...ids(a), ...ids(b)]) expect(checkIdCard(id).ok, id).toBe(true);
    expect(ids(a)).not.toEqual(ids(b));
    expect(ids(a)).not.toEqual(ids(script));
    const mobiles = typedTexts(a).filter((t) => /^1\d{10}$/.test(t));
    for (const m of mobiles) expect(checkMobile(m).ok, m).toBe(true);
  });

  it('mixes the three kinds of traffic', () => {
    const kinds = Array.from({ length: 1000 }, () => corpus.next().kind);
    const share = (k: string) => kinds.filter((x) => x === k).length / kinds.length;
    expect(share('guide')).toBeGreaterThan(0.6);
    expect(share('flow')).toBeGreaterThan(0.14);
    expect(share('handoff')).toBeGreaterThan(0.05);
  });
});

describe('benchmark conversations through the real app', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let address: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wsa-bench-test-'));
    ({ app, close } = await assistantApp({ DATA_DIR: dir, HANDOFF_DATA_DIR: dir }));
    address = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plays every scripted dialogue to its end, each flow to an application reference', async () => {
    const list = corpus.scripts.map((s) => corpus.fresh(s));
    const { r, refs } = await playAll(address, list);
    expect(r.samples, 'errors and clicks the bot did not offer').toEqual([]);
    expect(non2xx(r)).toBe(0);
    expect(r.conversationsFinished).toBe(list.length);
    const flows = list.filter((c) => c.submits);
    expect(flows.length).toBeGreaterThan(20);
    const without = flows.filter((c) => !(refs.get(c)?.length ?? 0)).map((c) => c.name);
    expect(without, 'flows that ended without an application reference').toEqual([]);
  });

  it('plays generated conversations of every kind without an error', async () => {
    const list = (['guide', 'flow', 'handoff'] as const).flatMap((k) => Array.from({ length: 15 }, () => corpus.nextConversation(k)));
    const { r } = await playAll(address, list);
    expect(r.samples).toEqual([]);
    expect(r.conversationsFinished).toBe(list.length);
    expect(Object.keys(r.kinds).sort()).toEqual(['flow', 'guide', 'handoff']);
  });
});

describe('latency histogram', () => {
  it('reads percentiles to within 0.2 %', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 100);
    expect(h.count).toBe(10_000);
    expect(h.percentile(0.5)).toBeCloseTo(50, 0);
    expect(Math.abs(h.percentile(0.99) - 99) / 99).toBeLessThan(0.002);
    expect(h.max).toBe(100);
    expect(h.percentile(1)).toBe(100);
  });
});
