import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStores, createSqliteStores, type Stores } from '../../src/store/index.js';
import { hasRedisServer, startRedisServer, type OwnRedis } from '../helpers/redis-server.js';

const KILLS = 10;
const dataDir = mkdtempSync(join(tmpdir(), 'wsa-kill-'));
const prefix = 'wsa-kill';
let redis: OwnRedis | undefined;
beforeAll(async () => {
  if (hasRedisServer) redis = await startRedisServer();
});
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await redis?.stop();
});

/** Runs the committer until it has committed at least once more, then SIGKILLs it at a random moment. */
async function runAndKill(where: string, conversationId: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/committer.ts', where, conversationId, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('started')) resolve();
    });
    // A restart may resume past step 1; give it a moment of committing instead.
    setTimeout(resolve, 1_500).unref();
    child.once('exit', (code) => (code === null ? undefined : reject(new Error(`committer exited with ${code}`))));
  });
  await sleep(20 + Math.random() * 150);
  child.kill('SIGKILL');
  await exited;
}

/** Everything a crash may not break: whole turns only, the turn index and applications agreeing with them. */
async function checkWhole(stores: Stores, id: string): Promise<number> {
  const step = (await stores.sessions.get<{ step: number }>(id))?.state.step ?? 0;
  const list = await stores.transcripts.list(id);
  expect(list.map((m) => m.text)).toEqual(Array.from({ length: step }, (_, i) => [`u${i + 1}`, `b${i + 1}`]).flat());
  expect(list.map((m) => m.seq)).toEqual(list.map((_, i) => i + 1));
  if (step > 0) expect((await stores.findTurn(id, `cm-${step}`))?.map((m) => m.text)).toEqual([`u${step}`, `b${step}`]);
  expect(await stores.findTurn(id, `cm-${step + 1}`)).toBeNull();
  for (let s = 3; s <= step; s += 3) expect((await stores.applications.findByRun(`run-${s}`))?.answers).toEqual({ step: s });
  // The next flow run's application was not committed.
  expect(await stores.applications.findByRun(`run-${step - (step % 3) + 3}`)).toBeNull();
  return step;
}

const backends: Array<[string, () => string, (where: string) => Promise<Stores>]> = [
  ['SQLite', () => dataDir, async (where) => createSqliteStores({ dataDir: where, sweepIntervalMs: 0 })],
  ['Redis', () => redis!.url, (where) => createRedisStores(where, { prefix })],
];

describe.each(backends)('%s under kill -9', (name, where, open) => {
  it.skipIf(name === 'Redis' && !hasRedisServer && process.env.CI !== 'true')(`keeps only whole turns across ${KILLS} SIGKILLs mid-commit, and a retry of the last turn changes nothing`, async () => {
    const id = 'killed-conversation';
    const steps: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      await runAndKill(where(), id);
      const stores = await open(where());
      try {
        steps.push(await checkWhole(stores, id));
        const step = steps.at(-1)!;
        if (step > 0) {
          const before = await stores.transcripts.list(id);
          const at = new Date().toISOString();
          const again = await stores.commitTurn({ conversationId: id, session: { schemaVersion: 1, state: { step: -1 }, updatedAt: at }, messages: [{ from: 'user', text: 'dup', at }], applications: [], clientMessageId: `cm-${step}` });
          expect(again.map((m) => m.text)).toEqual([`u${step}`, `b${step}`]);
          expect(await stores.transcripts.list(id)).toEqual(before);
          expect((await stores.sessions.get<{ step: number }>(id))?.state.step).toBe(step);
        }
      } finally {
        await stores.close();
      }
    }
    console.info(`${name}: committed steps at each kill: ${steps.join(", ")}`);
    // The committer made progress between kills.
    expect(steps.at(-1)!).toBeGreaterThan(steps[0]!);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  }, 120_000);
});
