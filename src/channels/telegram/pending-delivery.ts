import { GrammyError, HttpError } from 'grammy';
import type { Message } from '../../core/index.js';
import type { Stores } from '../../store/index.js';

/** Session-store ids of the marks; the session store seals and expires them like conversations. */
const MARK_KIND = 'tg-undelivered';

/** Whether a failed Bot API call may succeed later: the network, Telegram's 5xx, flood control after retries. */
export function isTransient(err: unknown): boolean {
  if (err instanceof HttpError) return true;
  return err instanceof GrammyError && (err.error_code >= 500 || err.error_code === 429);
}

/** A delivery that failed part-way: the turn's stored replies from `fromSeq` on did not reach the chat. */
interface Mark {
  fromSeq: number;
}

/**
 * Replies a turn stored but could not send. A turn commits before its replies go out, so when sending fails the
 * redelivered update is a duplicate turn: without this mark it would send nothing and the reply would be lost. With
 * it, the duplicate sends what is left from the first reply not sent, once, and clears the mark.
 */
export class PendingDeliveries {
  constructor(private readonly sessions: Stores['sessions']) {}

  /** Notes that `updateId`'s replies from `fromSeq` on were not sent. */
  async mark(updateId: number, fromSeq: number): Promise<void> {
    await this.sessions.set<Mark>(`${MARK_KIND}:${updateId}`, { schemaVersion: 1, state: { fromSeq }, updatedAt: new Date().toISOString() });
  }

  /** The replies of a repeated update still to send (none when all went out), clearing the mark. */
  async take(updateId: number, replies: Message[]): Promise<Message[]> {
    const id = `${MARK_KIND}:${updateId}`;
    const mark = await this.sessions.get<Mark>(id);
    if (!mark) return [];
    await this.sessions.delete(id);
    return replies.filter((m) => m.seq >= mark.state.fromSeq);
  }
}
