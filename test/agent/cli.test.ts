import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_RECORD_VERSION, createSqliteHandoffDb, openAgentDirectory } from '../../src/handoff/index.js';

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
      expect(a.role).toBe('agent');
    } finally {
      await close();
    }
  }, 30_000);

  it('makes an admin with --admin; a later add without a role keeps it, --role agent takes it back', async () => {
    const roleOf = async (login: string) => {
      const { agents, close } = await openAgentDirectory({ kind: 'sqlite', dir });
      try {
        return (await agents.get(login))?.role;
      } finally {
        await close();
      }
    };
    const made = await addAgent(['he.ping', '--admin', '--name', '何平'], 'a-long-password-2');
    expect(made.code, made.out).toBe(0);
    expect(made.out).toContain('admin he.ping (何平)');
    expect(await roleOf('he.ping')).toBe('admin');
    expect((await addAgent(['he.ping', '--name', '何平'], 'a-long-password-3')).code).toBe(0);
    expect(await roleOf('he.ping')).toBe('admin');
    expect((await addAgent(['he.ping', '--role', 'agent', '--name', '何平'], 'a-long-password-3')).code).toBe(0);
    expect(await roleOf('he.ping')).toBe('agent');
    expect((await addAgent(['he.ping', '--role', 'boss', '--name', '何平'], 'a-long-password-3')).code).toBe(2);
  }, 60_000);

  it('reads an agent stored before roles existed (record version 1) as an agent, and writes it back at the current version', async () => {
    const db = createSqliteHandoffDb(join(dir, 'agents.sqlite'));
    const { agents, close } = await openAgentDirectory({ kind: 'sqlite', dir });
    try {
      const v1 = { login: 'old.timer', name: '老员工', passwordHash: (await agents.add('tmp.one', 'x', 'a-long-password-4')).passwordHash, state: 'online', createdAt: '2026-01-05T00:00:00.000Z' };
      await db.put('agent', 'old.timer', v1);
      const read = await agents.get('old.timer');
      expect(read).toEqual({ ...v1, role: 'agent' });
      expect(await agents.verify('old.timer', 'a-long-password-4')).toMatchObject({ login: 'old.timer', role: 'agent' });
      await agents.setState('old.timer', 'away');
      expect(await db.get('agent', 'old.timer')).toEqual({ ...v1, state: 'away', role: 'agent', v: AGENT_RECORD_VERSION });
    } finally {
      await close();
      await db.close();
    }
  });

  it('refuses a short password and a missing name', async () => {
    expect((await addAgent(['wu.lei', '--name', '吴磊'], 'short')).code).toBe(1);
    expect((await addAgent(['wu.lei'], 'long-enough-1')).code).toBe(2);
    expect((await addAgent(['--admin', '--name', '吴磊'], 'long-enough-1')).code).toBe(2);
  }, 30_000);
});
