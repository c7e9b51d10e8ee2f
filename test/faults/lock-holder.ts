// Child process for the redis-pause test: takes a conversation lock, says "held", and hangs until killed.
import { createRedisStores } from '../../src/store/index.js';

const [url, prefix, key, lease] = process.argv.slice(2);
const stores = await createRedisStores(url!, { prefix: prefix!, lockLeaseMs: Number(lease) });
await stores.locks.withLock(key!, async () => {
  process.stdout.write('held\n');
  await new Promise(() => undefined);
});
