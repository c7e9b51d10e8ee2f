/** Reconnect delays: exponential from `base` to `max` ms, with jitter so many clients do not return at once. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly base = 500,
    private readonly max = 15_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt, in ms (between half and all of the exponential step). */
  next(): number {
    const step = Math.min(this.max, this.base * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(step / 2 + (this.random() * step) / 2);
  }

  /** Starts over after a success. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
