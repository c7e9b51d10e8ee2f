import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { autoWorkers, loadConfig } from '../../src/config.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createAssistant } from '../../src/main.js';
import { createClassifier, createClassifierPool, DEFAULT_MAX_QUEUE, type Classifier, type ClassifierPool } from '../../src/nlu/index.js';

const TEXTS = ['过户要带什么材料', '水表坏了怎么办', '我要开店', '转人工', 'shuibiao huaile', 'How do I pay my water bill?', '谢谢', '家里停水三天了，老人没水喝'];

let kb: KnowledgeBase;
let local: Classifier;
let pool: ClassifierPool;
beforeAll(async () => {
  kb = loadKnowledge();
  local = createClassifier(kb);
  pool = createClassifierPool({ workers: 1, knowledgeDir: 'knowledge', flowsDir: 'flows', hash: kb.hash });
  expect(await pool.whenReady()).toBe(true);
}, 60_000);
afterAll(() => pool.close());

describe('classifier pool', () => {
  it('understands exactly as the classifier on the event loop does', async () => {
    for (const t of TEXTS) expect(await pool.classify(t)).toEqual(local.classify(t));
  });

  it('declines work beyond its queue instead of letting it wait, so the caller classifies', async () => {
    const answers = await Promise.all(Array.from({ length: DEFAULT_MAX_QUEUE + 8 }, (_, i) => pool.classify(`${TEXTS[i % TEXTS.length]}${i}`)));
    expect(answers.filter((u) => u === null).length).toBeGreaterThan(0);
    expect(answers.filter((u) => u !== null).length).toBeGreaterThan(0);
  });

  it('is not asked while its workers hold another version of the knowledge, and serves again after a reload', async () => {
    pool.reload('another-hash');
    expect(await pool.classify(TEXTS[0]!)).toBeNull();
    pool.reload(kb.hash);
    expect(await pool.whenReady()).toBe(true);
    expect(await pool.classify(TEXTS[0]!)).toEqual(local.classify(TEXTS[0]!));
  }, 60_000);

  it('starts in a process run with flags Node refuses in workers (--expose-gc, as bench:soak runs)', () => {
    const script = [
      "import { createClassifierPool } from './src/nlu/pool.ts';",
      "import { loadKnowledge } from './src/knowledge/index.ts';",
      'const kb = loadKnowledge();',
      "const pool = createClassifierPool({ workers: 1, knowledgeDir: 'knowledge', flowsDir: 'flows', hash: kb.hash });",
      'const ready = await pool.whenReady(30000);',
      "const u = await pool.classify('过户要带什么材料');",
      'console.log(JSON.stringify({ ready, gc: typeof globalThis.gc, decision: u && u.decision }));',
      'await pool.close();',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ ready: true, gc: 'function', decision: local.classify('过户要带什么材料').decision });
  }, 90_000);

  it('answers null for everything pending when closed', async () => {
    const p = createClassifierPool({ workers: 1, knowledgeDir: 'knowledge', flowsDir: 'flows', hash: kb.hash });
    expect(await p.whenReady()).toBe(true);
    const pending = p.classify(TEXTS[1]!);
    await p.close();
    expect(await pending).toBeNull();
    expect(await p.classify(TEXTS[1]!)).toBeNull();
  }, 60_000);
});

describe('an assistant with NLU_WORKERS=1', () => {
  it('answers every message as the one without workers does', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'wsa-pool-')), mkdtempSync(join(tmpdir(), 'wsa-pool-'))];
    const make = (workers: string, dir: string) => createAssistant(loadConfig({ ...process.env, LOG_LEVEL: 'silent', REDIS_URL: '', STORE: 'memory', DATA_DIR: dir, HANDOFF_DATA_DIR: dir, NLU_WORKERS: workers }));
    const [a, b] = [await make('0', dirs[0]!), await make('1', dirs[1]!)];
    try {
      const replies = async (s: typeof a) => {
        const c = await s.service.start();
        const out: string[] = [];
        for (const t of [...TEXTS.slice(0, 4), '是的', '取消']) {
          const r = await s.service.send(c.conversationId, { text: t });
          out.push(...r.messages.map((x) => `${x.from}: ${x.text}`));
        }
        return out;
      };
      expect(await b.classifierPool!.whenReady()).toBe(true);
      expect(await replies(b)).toEqual(await replies(a));
      // The turns were understood by the worker, not by a fallback on the event loop.
      expect(b.classifierPool!.stats().served).toBeGreaterThanOrEqual(4);
      expect(a.classifierPool).toBeNull();
    } finally {
      for (const s of [a, b]) {
        for (const hook of s.shutdownHooks) await hook();
        await s.stores.close();
      }
      dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
    }
  }, 90_000);
});

describe('NLU_WORKERS', () => {
  it('defaults to auto: one worker where there is a second core, none on one core', () => {
    expect([1, 2, 8].map(autoWorkers)).toEqual([0, 1, 1]);
    const { NLU_WORKERS: _unset, ...env } = process.env;
    expect(loadConfig(env).NLU_WORKERS).toBe(autoWorkers(availableParallelism()));
    expect(loadConfig({ ...env, NLU_WORKERS: 'auto' }).NLU_WORKERS).toBe(autoWorkers(availableParallelism()));
    expect(loadConfig({ ...env, NLU_WORKERS: '0' }).NLU_WORKERS).toBe(0);
    expect(loadConfig({ ...env, NLU_WORKERS: '3' }).NLU_WORKERS).toBe(3);
    expect(() => loadConfig({ ...env, NLU_WORKERS: 'many' })).toThrow(/NLU_WORKERS/);
  });
});
