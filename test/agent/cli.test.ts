import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAgentDirectory } from '../../src/handoff/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wsa-agent-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `cli agent add` with the password piped on stdin. */
function addAgent(args: string[], password: string) {
  const child = execFile('npx', ['tsx', 'src/cli.ts', 'agent', 'add', ...args], { env: { ...process.env, REDIS_URL: '', HANDOFF_DATA_DIR: dir } });
  child.stdin!.end(`${password}\n`);
  return new Promise<{ code: number; out: string }>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

describe('npm run cli -- agent add', () => {
  it('stores the agent with a scrypt hash in the embedded store; the password verifies, the hash is not the password', async () => {
    const r = await addAgent(['zhou.min', '--name', '周敏'], 'a-long-password-1');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('zhou.min (周敏)');
    const { agents, close } = await openAgentDirectory({ kind: 'sqlite', dir });
    try {
      const a = (await agents.get('zhou.min'))!;
      expect(a.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect(a.passwordHash).not.toContain('a-long-password-1');
      expect(await agents.verify('zhou.min', 'a-long-password-1')).toMatchObject({ name: '周敏' });
      expect(await agents.verify('zhou.min', 'wrong')).toBeNull();
    } finally {
      await close();
    }
  }, 30_000);

  it('refuses a short password and a missing name', async () => {
    expect((await addAgent(['wu.lei', '--name', '吴磊'], 'short')).code).toBe(1);
    expect((await addAgent(['wu.lei'], 'long-enough-1')).code).toBe(2);
  }, 30_000);
});
