/** A value fixed at start, or a function asked at each use (so a knowledge reload reaches the next request). */
export type Live<T> = T | (() => T);

/** The value of `v` now. */
export function liveValue<T>(v: Live<T>): T {
  return typeof v === 'function' ? (v as () => T)() : v;
}
