import type { Database } from 'better-sqlite3';
import type { Message } from '../core/index.js';
import type { CommitPoint, TurnCommit } from './types.js';

interface Waiting {
  commit: TurnCommit;
  resolve: (stored: Message[]) => void;
  reject: (err: unknown) => void;
}

/** Commits turns on one SQLite connection, several per transaction. */
export interface GroupCommit {
  /** Resolves with the turn's stored messages once its transaction is durable; rejects when this turn's writes failed. */
  commit(c: TurnCommit): Promise<Message[]>;
  /** How many transactions carried how many turns (for benchmarks and tests). */
  stats(): { transactions: number; turns: number };
}

/**
 * Group commit: the turns that reach their commit in one pass of the event loop are written in one transaction,
 * each inside its own savepoint. Most of a commit's cost is SQLite's, per transaction (the WAL frames of every
 * page it dirtied, and the checkpoints they cause); pages the turns share (the expiry indexes, the events table's
 * last page) are then written once for all of them. A turn whose writes throw is rolled back to its savepoint
 * alone and rejected; the others commit. Nobody is answered before the transaction holding their turn committed,
 * and a turn holds its conversation's lock until then, so two turns of one conversation never share a batch.
 */
export function createGroupCommit(db: Database, write: (c: TurnCommit) => Message[], hook?: (point: CommitPoint) => void): GroupCommit {
  let waiting: Waiting[] = [];
  let transactions = 0;
  let turns = 0;
  const flush = () => {
    const batch = waiting;
    waiting = [];
    const outcomes: ({ stored: Message[] } | { err: unknown })[] = [];
    try {
      db.transaction(() => {
        for (const w of batch) {
          try {
            // A nested better-sqlite3 transaction is a savepoint: on a throw only this turn's writes are undone.
            outcomes.push({ stored: db.transaction(() => write(w.commit))() });
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
    turns += batch.length;
    batch.forEach((w, i) => settle(w, outcomes[i]!));
  };
  const settle = (w: Waiting, outcome: { stored: Message[] } | { err: unknown }) => {
    if ('err' in outcome) return w.reject(outcome.err);
    try {
      hook?.('committed');
      w.resolve(outcome.stored);
    } catch (err) {
      w.reject(err);
    }
  };
  return {
    commit: (commit) =>
      new Promise<Message[]>((resolve, reject) => {
        if (!waiting.length) setImmediate(flush);
        waiting.push({ commit, resolve, reject });
      }),
    stats: () => ({ transactions, turns }),
  };
}
