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
