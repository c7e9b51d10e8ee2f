import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Prefix of every sealed value: `enc:v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url parts). */
export const SEALED_PREFIX = 'enc:v1:';

/** Encrypts and decrypts single string fields; `context` binds a ciphertext to where it belongs. */
export interface FieldCipher {
  /** Id of the key new values are sealed with. */
  readonly keyId: string;
  seal(plain: string, context: string): string;
  open(sealed: string, context: string): string;
}

/** True when a value was produced by `seal`. */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

/** The key id a sealed value names: `enc:v1:<key id>:…`. */
export function sealedKeyId(sealed: string): string {
  return sealed.slice(SEALED_PREFIX.length).split(':', 1)[0] ?? '';
}

/** A key's id: the first 8 hex digits of its SHA-256, stored beside each ciphertext so rotation knows which key opens it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

const IV_BYTES = 12;
/** IVs drawn from the CSPRNG 256 at a time: one call per seal cost more than the encryption of a small value. */
const IV_POOL = IV_BYTES * 256;
let ivPool = Buffer.alloc(0);
let ivAt = 0;

/** A fresh random 96-bit IV (each pool byte is used once). */
function nextIv(): Buffer {
  if (ivAt + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL);
    ivAt = 0;
  }
  return ivPool.subarray(ivAt, (ivAt += IV_BYTES));
}

/** AES-256-GCM field cipher: seals with `current`, opens with it or any of `old` (rotation). */
export function createFieldCipher(current: Buffer, old: Buffer[] = []): FieldCipher {
  for (const k of [current, ...old]) if (k.length !== 32) throw new Error('data keys must be 32 bytes (base64 of 32 random bytes)');
  const keys = new Map([current, ...old].map((k) => [keyIdOf(k), k]));
  const keyId = keyIdOf(current);
  return {
    keyId,
    seal(plain, context) {
      const iv = nextIv();
      const c = createCipheriv('aes-256-gcm', current, iv);
      c.setAAD(Buffer.from(context));
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `${SEALED_PREFIX}${keyId}:${iv.toString('base64url')}:${c.getAuthTag().toString('base64url')}:${body.toString('base64url')}`;
    },
    open(sealed, context) {
      const [kid, iv, tag, body] = sealed.slice(SEALED_PREFIX.length).split(':');
      const key = kid ? keys.get(kid) : undefined;
      if (!key || !iv || !tag || body === undefined) throw new Error(`cannot open a sealed value: ${key ? 'malformed' : `unknown key id ${kid}`}`);
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(context));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    },
  };
}
