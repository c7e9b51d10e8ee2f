import type { EventEmitter } from 'node:events';
import type { MessageBus } from '../../delivery/types.js';

/** Without a bus, how often a waiting request looks at the transcript again. */
const POLL_MS = 1_000;

/**
 * Pending long polls: each waits until a message after `after` is published for its conversation, the wait
 * runs out, the client goes away, or the server closes (then every wait ends at once).
 */
export class LongPolls {
  private readonly pending = new Set<() => void>();

  /** Resolves when there may be news for the conversation; the caller re-reads the transcript. */
  until(conversationId: string, after: number, ms: number, bus: MessageBus | undefined, response: EventEmitter): Promise<void> {
    return new Promise<void>((resolve) => {
      let off = () => {};
      const done = () => {
        clearTimeout(timer);
        off();
        response.off('close', done);
        this.pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (bus) off = bus.subscribe(conversationId, (messages) => messages.some((m) => m.seq > after) && done());
      else {
        const tick = setInterval(done, POLL_MS);
        off = () => clearInterval(tick);
      }
      // The response's close: the client went away (the request's own close fires once its body is read).
      response.once('close', done);
      this.pending.add(done);
    });
  }

  /** Ends every pending wait (graceful shutdown). */
  closeAll(): void {
    for (const done of [...this.pending]) done();
  }
}
