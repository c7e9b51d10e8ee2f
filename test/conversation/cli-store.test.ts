import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { createSqliteStores } from '../../src/store/index.js';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'wsa-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('`cli ask` answers while a running server holds the SQLite file of the same DATA_DIR', async () => {
  const held = createSqliteStores({ dataDir, sweepIntervalMs: 0 });
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'ask', '水费在哪交'], { env: { ...process.env, DATA_DIR: dataDir, STORE: 'sqlite', REDIS_URL: '' }, timeout: 60_000 });
    expect(stdout.trim().length).toBeGreaterThan(10);
    expect(stdout).toMatch(/水费|缴费/);
  } finally {
    await held.close();
  }
}, 70_000);
