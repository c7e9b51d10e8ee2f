import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFieldCipher, createSessionSealer, isSealed, type FieldCipher } from '../../src/privacy/index.js';

const record = (state: unknown) => ({ schemaVersion: 1, state, updatedAt: '2026-12-01T00:00:00.000Z' });
const mid = { dialogue: { mode: 'flow', answers: { idCard: '420106198503121233', mobile: '13812345678' } } };

/** A cipher that counts its calls. */
function counting(cipher: FieldCipher) {
  const calls = { seal: 0, open: 0 };
  const c: FieldCipher = {
    keyId: cipher.keyId,
    seal: (p, ctx) => (calls.seal++, cipher.seal(p, ctx)),
    open: (s, ctx) => (calls.open++, cipher.open(s, ctx)),
  };
  return { c, calls };
}

describe('session sealer', () => {
  const key = randomBytes(32);

  it('writes ciphertext only, and reads back what it wrote without decrypting it again', () => {
    const { c, calls } = counting(createFieldCipher(key));
    const sealer = createSessionSealer(c);
    const stored = sealer.seal('c1', record(mid));
    expect(isSealed(stored.state)).toBe(true);
    expect(stored.state).not.toContain('13812345678');
    expect(sealer.open('c1', stored).state).toEqual(mid);
    expect(calls).toEqual({ seal: 1, open: 0 });
  });

  it('does not encrypt an unchanged state again, and does for a changed one', () => {
    const { c, calls } = counting(createFieldCipher(key));
    const sealer = createSessionSealer(c);
    const first = sealer.seal('c1', record(mid));
    expect(sealer.seal('c1', record(structuredClone(mid))).state).toBe(first.state);
    const changed = sealer.seal('c1', record({ dialogue: { mode: 'bot' } }));
    expect(changed.state).not.toBe(first.state);
    expect(calls.seal).toBe(2);
  });

  it('opens a state another instance wrote, and refuses a ciphertext bound to another conversation', () => {
    const other = createSessionSealer(createFieldCipher(key)).seal('c1', record({ dialogue: { mode: 'agent' } }));
    const { c, calls } = counting(createFieldCipher(key));
    const sealer = createSessionSealer(c);
    sealer.seal('c1', record(mid));
    expect(sealer.open('c1', other).state).toEqual({ dialogue: { mode: 'agent' } });
    expect(calls.open).toBe(1);
    expect(() => sealer.open('c2', other)).toThrow();
  });

  it('forgets a conversation, and remembers no more than its bound', () => {
    const { c, calls } = counting(createFieldCipher(key));
    const sealer = createSessionSealer(c, 2);
    const a = sealer.seal('a', record(mid));
    sealer.forget('a');
    sealer.open('a', a);
    expect(calls.open).toBe(1);
    const b = sealer.seal('b', record(mid));
    sealer.seal('x', record(mid));
    sealer.seal('y', record(mid));
    sealer.open('b', b);
    expect(calls.open).toBe(2);
  });
});

describe('session sealer after a key rotation', () => {
  it('does not write back a remembered ciphertext of an older key', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const stored = createSessionSealer(createFieldCipher(a)).seal('c1', record(mid));
    const sealer = createSessionSealer(createFieldCipher(b, [a]));
    expect(sealer.open('c1', stored).state).toEqual(mid);
    const again = sealer.seal('c1', record(mid));
    expect(again.state).not.toBe(stored.state);
    expect(again.state).toMatch(new RegExp(`^enc:v1:${createFieldCipher(b).keyId}:`));
  });
});
