/** One pending call: its deadline (performance.now() ms) and how to fail it, linked in start order. */
interface Pending {
  at: number;
  fail: (err: Error) => void;
  prev?: Pending;
  next?: Pending;
  done: boolean;
}

/**
 * Bounds calls by a fixed time with one timer for all of them. Every call gets the same bound, so deadlines fall
 * in start order: the pending calls are a linked list (O(1) to add and to remove when they settle) and the single
 * timer only ever waits for the oldest one. A timer (or AbortSignal) per Redis command cost a few per cent of an
 * instance's CPU under load; this costs one timer per `ms` at most.
 */
export class SharedDeadline {
  private head?: Pending;
  private tail?: Pending;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ms: number,
    private readonly message: (ms: number) => string = (n) => `Redis did not answer within ${n} ms`,
  ) {}

  /** Settles like `p`, or rejects when `p` has not settled after `ms`; the late outcome of `p` is dropped. */
  bound<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { at: performance.now() + this.ms, fail: reject, done: false };
      this.append(entry);
      p.then(
        (v) => (this.remove(entry), resolve(v)),
        (err: unknown) => (this.remove(entry), reject(err)),
      );
    });
  }

  /** Calls still waiting (tests). */
  get pending(): number {
    let n = 0;
    for (let e = this.head; e; e = e.next) n++;
    return n;
  }

  private append(entry: Pending): void {
    entry.prev = this.tail;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (!this.timer) this.arm(this.ms);
  }

  private remove(entry: Pending): void {
    if (entry.done) return;
    entry.done = true;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = undefined;
  }

  private arm(ms: number): void {
    // Unref'd: a pending call keeps its own socket (and so the process) alive, the timer need not.
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  /** Fails every call past its deadline, then waits for the oldest one left (if any). */
  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head && this.head.at <= now) {
      const late = this.head;
      this.remove(late);
      late.fail(new Error(this.message(this.ms)));
    }
    if (this.head) this.arm(this.head.at - now);
  }
}
