import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/index.js';
import { Backoff } from '../../widget/src/backoff.js';
import { isMessage, Timeline } from '../../widget/src/timeline.js';

const msg = (seq: number, from: Message['from'] = 'bot'): Message => ({ seq, from, at: '2026-10-01T02:00:00.000Z', text: `m${seq}` });

describe('Timeline', () => {
  it('accepts each seq once, however often and in whatever order it arrives', () => {
    const t = new Timeline();
    expect(t.add([msg(2), msg(1)]).map((m) => m.seq)).toEqual([1, 2]);
    expect(t.add([msg(2), msg(3), msg(1), msg(3)]).map((m) => m.seq)).toEqual([3]);
    expect(t.size).toBe(3);
    expect(t.last).toBe(3);
  });

  it('catches up from the highest seq before a gap', () => {
    const t = new Timeline([msg(1), msg(2)]);
    t.add([msg(4), msg(5)]);
    expect(t.last).toBe(5);
    expect(t.contiguous).toBe(2);
    expect(t.hasGap).toBe(true);
    t.add([msg(3)]);
    expect(t.contiguous).toBe(5);
    expect(t.hasGap).toBe(false);
  });

  it('continues from a kept tail that does not start at 1', () => {
    const t = new Timeline([msg(41), msg(42)]);
    expect(t.contiguous).toBe(42);
    t.trimTo(1);
    expect(t.tail(10).map((m) => m.seq)).toEqual([42]);
    expect(t.contiguous).toBe(42);
  });

  it('ignores what is not a message', () => {
    const t = new Timeline();
    const junk = [null, {}, { seq: 0, from: 'bot', text: 'x' }, { seq: 1.5, from: 'bot', text: 'x' }, { seq: 2, from: 'hacker', text: 'x' }, { seq: 3, from: 'bot' }];
    expect(t.add(junk as unknown as Message[])).toEqual([]);
    expect(junk.some(isMessage)).toBe(false);
  });
});

describe('Backoff', () => {
  it('grows exponentially to the cap, with jitter between half and all of each step, and resets', () => {
    const low = new Backoff(500, 4000, () => 0);
    expect([1, 2, 3, 4, 5].map(() => low.next())).toEqual([250, 500, 1000, 2000, 2000]);
    const high = new Backoff(500, 4000, () => 1);
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([500, 1000, 2000, 4000, 4000]);
    high.reset();
    expect(high.next()).toBe(500);
  });
});
