import type { Database } from 'better-sqlite3';

interface Waiting {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Runs writes on one SQLite connection, several per transaction. */
export interface GroupCommit {
  /** Runs `work` in the next group transaction; resolves with its result once that transaction is durable, rejects when `work` threw (its writes undone) or the transaction failed. */
  run<T>(work: () => T): Promise<T>;
  /** Commits what waits now, instead of at the end of this pass of the event loop (before closing the database). */
  flush(): void;
  /** How many transactions carried how many writes (for benchmarks and tests). */
  stats(): { transactions: number; writes: number };
}

/**
 * Group commit: the writes asked for in one pass of the event loop go into one transaction, each inside its own
 * savepoint. Most of a commit's cost is SQLite's, per transaction (the WAL frames of every page it dirtied, and the
 * checkpoints they cause); pages the writes share (the expiry indexes, a table's last page) are then written once
 * for all of them. A write that throws is rolled back to its savepoint alone and rejected; the others commit. No
 * caller is answered before the transaction holding its write committed. Callers that must not share a batch (two
 * turns of one conversation) are kept apart by their own locks, held until their write resolved.
 * `afterCommit` runs once per successful write after the commit (a test seam: throwing rejects that write only).
 */
export function createGroupCommit(db: Database, afterCommit?: () => void): GroupCommit {
  let waiting: Waiting[] = [];
  let transactions = 0;
  let writes = 0;
  const flush = () => {
    const batch = waiting;
    if (!batch.length) return;
    waiting = [];
    const outcomes: ({ value: unknown } | { err: unknown })[] = [];
    try {
      db.transaction(() => {
        for (const w of batch) {
          try {
            // A nested better-sqlite3 transaction is a savepoint: on a throw only this write is undone.
            outcomes.push({ value: db.transaction(w.work)() });
          } catch (err) {
            outcomes.push({ err });
          }
        }
      }).immediate();
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    transactions++;
    writes += batch.length;
    batch.forEach((w, i) => settle(w, outcomes[i]!));
  };
  const settle = (w: Waiting, outcome: { value: unknown } | { err: unknown }) => {
    if ('err' in outcome) return w.reject(outcome.err);
    try {
      afterCommit?.();
      w.resolve(outcome.value);
    } catch (err) {
      w.reject(err);
    }
  };
  return {
    run: <T>(work: () => T) =>
      new Promise<T>((resolve, reject) => {
        if (!waiting.length) setImmediate(flush);
        waiting.push({ work, resolve: resolve as (v: unknown) => void, reject });
      }),
    flush,
    stats: () => ({ transactions, writes }),
  };
}
