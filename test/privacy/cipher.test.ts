import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Application } from '../../src/core/index.js';
import { createFieldCipher, isSealed, keyIdOf, loadFieldCipher, openApplication, sealApplication } from '../../src/privacy/index.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'wsa-key-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const app: Application = {
  ref: 'WS20261201-0001',
  flowId: 'buy-house',
  title: '二手房用水一件事',
  conversationId: 'c1',
  answers: { account: '1002345678', name: '张三', idCard: '420106198503121233', mobile: '13812345678', fivePlus: false },
  fields: [{ label: '手机号', value: '138****5678' }],
  items: ['transfer-ownership'],
  checklist: [],
  mobile: '13812345678',
  status: 'submitted',
  submittedAt: '2026-12-01T00:00:00.000Z',
  dueDate: '2026-12-04',
  timeLimit: { value: 3, unit: '工作日' },
  nextSteps: [],
};

describe('field cipher', () => {
  it('round-trips, names its key, and differs every time', () => {
    const key = randomBytes(32);
    const c = createFieldCipher(key);
    const a = c.seal('13812345678', 'ctx');
    const b = c.seal('13812345678', 'ctx');
    expect(a).not.toBe(b);
    expect(a).not.toContain('13812345678');
    expect(a.split(':')[2]).toBe(keyIdOf(key));
    expect(c.open(a, 'ctx')).toBe('13812345678');
  });

  it('refuses a tampered value or one moved to another record', () => {
    const c = createFieldCipher(randomBytes(32));
    const sealed = c.seal('420106198503121233', 'application.mobile:WS1');
    const parts = sealed.split(':');
    parts[5] = Buffer.from('x'.repeat(18)).toString('base64url');
    expect(() => c.open(parts.join(':'), 'application.mobile:WS1')).toThrow();
    expect(() => c.open(sealed, 'application.mobile:WS2')).toThrow();
  });

  it('reads values sealed under an old key after rotation, and seals new ones under the new key', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = createFieldCipher(oldKey).seal('1002345678', 'x');
    const rotated = createFieldCipher(newKey, [oldKey]);
    expect(rotated.open(before, 'x')).toBe('1002345678');
    expect(rotated.seal('1', 'x').split(':')[2]).toBe(keyIdOf(newKey));
    expect(() => createFieldCipher(newKey).open(before, 'x')).toThrow(/unknown key id/);
  });

  it('seals every answer and the mobile of an application, and opens them again', () => {
    const c = createFieldCipher(randomBytes(32));
    const sealed = sealApplication(app, c);
    const text = JSON.stringify(sealed);
    for (const raw of ['1002345678', '420106198503121233', '13812345678', '张三']) expect(text).not.toContain(raw);
    expect(isSealed(sealed.mobile)).toBe(true);
    expect(sealed.fields).toEqual(app.fields);
    expect(openApplication(sealed, c)).toEqual(app);
    expect(openApplication(app, c)).toEqual(app);
  });
});

describe('data key loading', () => {
  it('uses DATA_KEY and rejects one that is not 32 bytes', () => {
    const key = randomBytes(32);
    expect(loadFieldCipher({ dataKey: key.toString('base64'), dataDir: tempDir() }).keyId).toBe(keyIdOf(key));
    expect(() => loadFieldCipher({ dataKey: randomBytes(16).toString('base64'), dataDir: tempDir() })).toThrow(/DATA_KEY must be base64 of exactly 32 bytes/);
  });

  it('refuses to start without DATA_KEY under NODE_ENV=production', () => {
    expect(() => loadFieldCipher({ nodeEnv: 'production', dataDir: tempDir() })).toThrow(/DATA_KEY is required/);
  });

  it('warns in development and keeps one development key in DATA_DIR (mode 0600)', () => {
    const dataDir = tempDir();
    const warnings: string[] = [];
    const first = loadFieldCipher({ nodeEnv: 'development', dataDir, warn: (m) => warnings.push(m) });
    const second = loadFieldCipher({ nodeEnv: 'development', dataDir, warn: (m) => warnings.push(m) });
    expect(second.keyId).toBe(first.keyId);
    expect(second.open(first.seal('v', 'c'), 'c')).toBe('v');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/DATA_KEY is not set/);
    const file = join(dataDir, 'dev-data-key');
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
