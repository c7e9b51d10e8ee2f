/** A map whose entries expire: read checks the deadline, `sweep` removes what is past it, and a cap evicts the least recently written. */
export class ExpiringMap<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();
  constructor(
    private readonly cap = Infinity,
    private readonly onEvict: (key: string) => void = () => undefined,
  ) {}
  get(key: string, now = Date.now()): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }
  /** Writes and moves the key to the most recent end; evicts the oldest beyond the cap. */
  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    this.map.delete(key);
    this.map.set(key, { value, expires: now + ttlMs });
    while (this.map.size > this.cap) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.onEvict(oldest);
    }
  }
  delete(key: string): boolean {
    return this.map.delete(key);
  }
  /** Removes every entry past its deadline (or matching `extra`); returns how many went. */
  sweep(now = Date.now(), extra?: (value: V) => boolean): number {
    let n = 0;
    for (const [key, e] of this.map) {
      if (e.expires <= now || extra?.(e.value)) {
        this.map.delete(key);
        n++;
      }
    }
    return n;
  }
  get size(): number {
    return this.map.size;
  }
}
