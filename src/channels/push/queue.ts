/**
 * Runs tasks for one key strictly in arrival order, different keys in parallel: one chat's updates are
 * handled in order inside an instance (the store's conversation lock orders them across instances).
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Queues `task` behind earlier tasks of `key`; a failed task does not block the next. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.catch(() => undefined).then(task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Number of keys with queued work (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
