import type { Logger } from '../core/index.js';
import type { Stores } from './types.js';

/** Runs `stores.purge` now and every `intervalMs` (unref'd); returns the stopper. Failures are logged and retried next time. */
export function startPurgeJob(stores: Stores, intervalMs: number, logger: Logger): () => void {
  const run = async () => {
    try {
      const removed = await stores.purge(new Date());
      if (removed.sessions || removed.transcripts || removed.applications) logger.info({ removed }, 'retention purge');
    } catch (err) {
      logger.warn({ err }, 'retention purge failed; retrying at the next run');
    }
  };
  void run();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
