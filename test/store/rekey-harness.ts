import { randomBytes } from 'node:crypto';
import type { Config } from '../../src/config.js';
import { dataRekey } from '../../src/store/rekey-cli.js';

/** The key the data was written under (A), the key rotated to (B), and one never configured (C). */
export const A = randomBytes(32);
export const B = randomBytes(32);
export const C = randomBytes(32);

/** A key as DATA_KEY / DATA_KEYS_OLD spell it. */
export const b64 = (k: Buffer): string => k.toString('base64');

/** The configuration after the rotation: B current, A still readable. */
export const rotated = { DATA_KEY: b64(B), DATA_KEYS_OLD: b64(A) };

/** Runs `data rekey` in-process, returning its exit code and printed lines. */
export async function runRekey(config: Config, args: string[] = []): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await dataRekey(args, config, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}
