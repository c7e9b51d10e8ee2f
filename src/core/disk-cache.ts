import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The folder start-up work is cached in (NLU_CACHE_DIR), or null when the cache is off ("off"). */
export function cacheDir(): string | null {
  const dir = process.env.NLU_CACHE_DIR ?? join(tmpdir(), 'wsa-nlu-cache');
  return dir === 'off' ? null : dir;
}

/** A JSON value built once per key (e.g. a knowledge hash) and read from disk on later starts. */
export function cachedJson<T>(kind: string, key: string, build: () => T): T {
  const dir = cacheDir();
  if (!dir) return build();
  const file = join(dir, `${kind}-${createHash('sha256').update(key).digest('hex').slice(0, 20)}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    // not cached yet
  }
  const value = build();
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, file);
  } catch {
    // a read-only disk only costs the next start the build time
  }
  return value;
}
