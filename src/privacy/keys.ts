import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFieldCipher, type FieldCipher } from './cipher.js';

/** Where the data key comes from. */
export interface DataKeyOptions {
  /** DATA_KEY: base64 of 32 bytes. */
  dataKey?: string;
  /** DATA_KEYS_OLD: comma-separated base64 keys that still open older values. */
  oldKeys?: string;
  /** NODE_ENV: without a key, `production` refuses to start. */
  nodeEnv?: string;
  /** DATA_DIR, where a development key is kept. */
  dataDir: string;
  /** Told once when a development key is used. */
  warn?: (message: string) => void;
}

const DEV_KEY_FILE = 'dev-data-key';

/** Decodes one base64 key, naming the variable when it is not 32 bytes. */
function decodeKey(value: string, name: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${name} must be base64 of exactly 32 bytes (got ${key.length}); make one with: openssl rand -base64 32`);
  return key;
}

/** Reads the development key from DATA_DIR, creating it (mode 0600) on first use. */
function devKey(dataDir: string): Buffer {
  const file = join(dataDir, DEV_KEY_FILE);
  if (existsSync(file)) return decodeKey(readFileSync(file, 'utf8'), file);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

/** Builds the field cipher from DATA_KEY; in production without one it throws, in development it warns and uses a key kept in DATA_DIR. */
export function loadFieldCipher(opts: DataKeyOptions): FieldCipher {
  const old = (opts.oldKeys ?? '').split(',').filter((k) => k.trim()).map((k, i) => decodeKey(k, `DATA_KEYS_OLD[${i}]`));
  if (opts.dataKey) return createFieldCipher(decodeKey(opts.dataKey, 'DATA_KEY'), old);
  if (opts.nodeEnv === 'production') throw new Error('DATA_KEY is required when NODE_ENV=production (base64 of 32 bytes: openssl rand -base64 32)');
  opts.warn?.(`DATA_KEY is not set: personal data is encrypted with a development key kept in ${join(opts.dataDir, DEV_KEY_FILE)}; set DATA_KEY in production`);
  return createFieldCipher(devKey(opts.dataDir), old);
}
