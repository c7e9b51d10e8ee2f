import type { Message } from './types.js';

/**
 * The messages seen so far, by sequence number: a message is accepted once, however often it arrives
 * (socket catch-up, publish, long poll, the reply to a POST, a retried send).
 */
export class Timeline {
  private readonly bySeq = new Map<number, Message>();
  /** Lowest seq held; the transcript is complete from here up to `contiguous`. */
  private base = 1;

  constructor(initial: Message[] = []) {
    if (initial.length) this.base = Math.min(...initial.map((m) => m.seq));
    this.add(initial);
  }

  /** Accepts messages, returning those not seen before, in seq order. */
  add(messages: readonly Message[]): Message[] {
    const fresh: Message[] = [];
    for (const m of messages) {
      if (!isMessage(m) || this.bySeq.has(m.seq)) continue;
      this.bySeq.set(m.seq, m);
      fresh.push(m);
    }
    return fresh.sort((a, b) => a.seq - b.seq);
  }

  /** Highest seq seen. */
  get last(): number {
    let max = 0;
    for (const s of this.bySeq.keys()) max = Math.max(max, s);
    return max;
  }

  /** Highest seq up to which nothing is missing: the `after` to catch up from. */
  get contiguous(): number {
    if (!this.bySeq.size) return 0;
    let s = this.base - 1;
    while (this.bySeq.has(s + 1)) s++;
    return s;
  }

  /** True when some seq below `last` has not arrived (it is fetched by catching up after `contiguous`). */
  get hasGap(): boolean {
    return this.contiguous < this.last;
  }

  /** The newest `n` messages in order (what is kept across reloads). */
  tail(n: number): Message[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-n);
  }

  /** Forgets everything before the kept tail, so `contiguous` starts at its first message. */
  trimTo(n: number): void {
    const keep = this.tail(n);
    this.bySeq.clear();
    this.base = keep[0]?.seq ?? 1;
    for (const m of keep) this.bySeq.set(m.seq, m);
  }

  get size(): number {
    return this.bySeq.size;
  }
}

/** A message as the transport contract defines it; anything else is ignored rather than shown. */
export function isMessage(m: unknown): m is Message {
  if (!m || typeof m !== 'object') return false;
  const x = m as Record<string, unknown>;
  return Number.isInteger(x.seq) && (x.seq as number) > 0 && typeof x.text === 'string' && ['user', 'bot', 'agent', 'system'].includes(x.from as string);
}
