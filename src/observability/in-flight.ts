import type { TurnMiddleware } from '../conversation/index.js';

/** Counts turns in progress, so a graceful shutdown can wait for them. */
export interface InFlightTurns {
  /** The outermost pipeline stage that does the counting. */
  readonly middleware: TurnMiddleware;
  /** Turns running now. */
  count(): number;
  /** Resolves when no turn runs, or after `timeoutMs`; true when drained. */
  drain(timeoutMs: number): Promise<boolean>;
}

/** Creates the in-flight turn counter. */
export function createInFlightTurns(): InFlightTurns {
  let running = 0;
  let waiters: Array<() => void> = [];
  const settle = () => {
    if (running) return;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  return {
    middleware: async (_turn, next) => {
      running++;
      try {
        await next();
      } finally {
        running--;
        settle();
      }
    },
    count: () => running,
    drain(timeoutMs) {
      if (!running) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        waiters.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    },
  };
}
