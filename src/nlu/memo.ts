/**
 * Per-message memo. Classifying one message analyses the same few texts many times over (the whole message, its
 * asking part, the story around it); inside `withMemo` each memoised function computes a given input once. The memo
 * lives only for the call: nothing is remembered from one message to the next, so repeated messages gain nothing.
 */
let active: Map<object, Map<string, unknown>> | null = null;

/** Runs `fn` with memoised functions remembering their results until it returns (re-entrant: an inner call joins). */
export function withMemo<T>(fn: () => T): T {
  if (active) return fn();
  active = new Map();
  try {
    return fn();
  } finally {
    active = null;
  }
}

/** `f` memoised within `withMemo` (and called straight through outside it); `f` must be pure. */
export function memoized<R>(f: (s: string) => R): (s: string) => R {
  const g = (s: string): R => {
    if (!active) return f(s);
    let m = active.get(g) as Map<string, R> | undefined;
    if (!m) active.set(g, (m = new Map()));
    const hit = m.get(s);
    if (hit !== undefined || m.has(s)) return hit as R;
    const r = f(s);
    m.set(s, r);
    return r;
  };
  return g;
}
