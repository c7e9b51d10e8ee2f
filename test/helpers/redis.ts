import { createClient } from 'redis';
import { describe, it } from 'vitest';
import { createRedisStores } from '../../src/store/index.js';

/** True when Redis answers PING at `url`. */
export async function redisAnswers(url: string, prefix: string): Promise<boolean> {
  try {
    const probe = await createRedisStores(url, { prefix });
    await probe.ping();
    await probe.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The `describe` to use for a Redis-backed suite: the real one when Redis answers; otherwise
 * `describe.skip` with a visible notice, and under CI=true a registered failing test as well.
 */
export async function redisSuite(label: string, url: string, prefix: string): Promise<typeof describe.skip> {
  if (await redisAnswers(url, prefix)) return describe;
  if (process.env.CI === 'true') {
    describe(label, () => {
      it('needs a reachable Redis', () => {
        throw new Error(`Redis is required under CI=true, but ${url} did not answer`);
      });
    });
  } else {
    console.warn(`\n⚠ Redis at ${url} did not answer: skipping the ${label} tests (set CI=true to fail instead).\n`);
  }
  return describe.skip;
}

/** Deletes every key under `prefix` (a suite's own), so a Redis test leaves nothing behind. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 200 })) if (keys.length) await client.del(keys);
  await client.close();
}
