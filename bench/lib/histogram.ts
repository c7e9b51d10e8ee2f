// A latency histogram in the manner of HdrHistogram: microsecond counts in log-linear buckets (1 µs steps up to
// 2 ms, then 1024 buckets per power of two, about 0.1 % precision) up to about 20 minutes, in a fixed array, so a
// soak of millions of responses costs no more memory than a short run.

const LINEAR = 2048;
const SUB = 1024;
const EXPONENTS = 20;

/** Recorded latencies with their percentiles. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(LINEAR + EXPONENTS * SUB);
  /** Responses recorded. */
  count = 0;
  /** Largest latency recorded, in ms. */
  max = 0;
  private sum = 0;

  /** Records one latency in ms. */
  record(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.counts[Math.min(this.counts.length - 1, indexOf(us))]!++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's counts to this one. */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  /** The latency at quantile q (0..1) in ms, NaN when empty. */
  percentile(q: number): number {
    if (!this.count) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i) / 1000, this.max);
    }
    return this.max;
  }

  /** Mean latency in ms. */
  mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  /** p50/p90/p99/max rounded to 0.1 ms. */
  summary(): { p50: number; p90: number; p99: number; max: number; mean: number } {
    const r = (x: number) => Math.round(x * 10) / 10;
    return { p50: r(this.percentile(0.5)), p90: r(this.percentile(0.9)), p99: r(this.percentile(0.99)), max: r(this.max), mean: r(this.mean()) };
  }
}

function indexOf(us: number): number {
  if (us < LINEAR) return us;
  const e = Math.floor(Math.log2(us)) - 10;
  return LINEAR + (e - 1) * SUB + (Math.floor(us / 2 ** e) - SUB);
}

/** The middle of bucket i, in µs. */
function valueOf(i: number): number {
  if (i < LINEAR) return i;
  const e = Math.floor((i - LINEAR) / SUB) + 1;
  const sub = ((i - LINEAR) % SUB) + SUB;
  return sub * 2 ** e + 2 ** (e - 1);
}
