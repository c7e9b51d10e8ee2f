import type { TurnMetrics, TurnMiddleware } from '../conversation/index.js';
import type { Classifier } from '../nlu/index.js';
import type { Metrics } from './metrics.js';

/** Error codes that mean the store failed (not the user's request). */
const STORE_FAILURES = new Set(['STORE_UNAVAILABLE', 'INTERNAL']);

/** The service's `onTurn` hook: messages by channel and outcome, turn latency, store errors. */
export function observeTurn(m: Metrics): (t: TurnMetrics) => void {
  return (t) => {
    m.message(t.channel, t.error ?? t.handled ?? 'none');
    m.turnLatency(t.channel, t.durationMs / 1000);
    if (t.error && STORE_FAILURES.has(t.error)) m.storeError(t.error === 'INTERNAL' ? 'turn-internal' : 'turn');
  };
}

/**
 * A before-engine stage counting what the committed turn did: a handoff (the mode entering `handoff`, with its
 * reason) and the applications it submitted. It looks after `next()`, so a turn that failed to commit counts nothing.
 */
export function outcomeCounter(m: Metrics): TurnMiddleware {
  return async (turn, next) => {
    const before = turn.session?.dialogue.mode;
    await next();
    const after = turn.session?.dialogue;
    if (after?.mode === 'handoff' && before !== 'handoff') m.handoff(after.handoffReason ?? 'unknown');
    for (const a of turn.applications) m.application(a.flowId);
  };
}

/** The classifier with every decision counted. */
export function observedClassifier(classifier: Classifier, m: Metrics): Classifier {
  return {
    ...classifier,
    classify(text, thresholds, dense) {
      const u = classifier.classify(text, thresholds, dense);
      m.decision(u.decision);
      return u;
    },
    // A turn's prefetched classifier is observed too: its decisions count like the others.
    ...(classifier.prefetch ? { prefetch: async (text: string) => observedClassifier(await classifier.prefetch!(text), m) } : {}),
  };
}
