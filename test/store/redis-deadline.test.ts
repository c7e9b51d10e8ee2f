import { describe, expect, it } from 'vitest';
import { SharedDeadline } from '../../src/store/redis-deadline.js';

const never = () => new Promise<never>(() => undefined);
const later = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));

describe('SharedDeadline', () => {
  it('passes on what settles in time, values and errors alike, and forgets the call', async () => {
    const d = new SharedDeadline(200);
    await expect(d.bound(later(5, 'ok'))).resolves.toBe('ok');
    await expect(d.bound(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(d.pending).toBe(0);
  });

  it('fails every hung call within the bound, each about its own bound after it started', async () => {
    const d = new SharedDeadline(120, (ms) => `no answer in ${ms} ms`);
    const started = performance.now();
    const first = d.bound(never()).catch((e: Error) => ({ e, at: performance.now() - started }));
    await later(50, null);
    const second = d.bound(never()).catch((e: Error) => ({ e, at: performance.now() - started }));
    const fast = d.bound(later(10, 'fast'));
    const [a, b, c] = await Promise.all([first, second, fast]);
    expect(c).toBe('fast');
    expect(a.e.message).toBe('no answer in 120 ms');
    expect(a.at).toBeGreaterThanOrEqual(115);
    expect(a.at).toBeLessThan(200);
    expect(b.at).toBeGreaterThanOrEqual(165);
    expect(b.at).toBeLessThan(260);
    expect(d.pending).toBe(0);
  });

  it('keeps bounding calls started after the timer went quiet', async () => {
    const d = new SharedDeadline(40);
    await expect(d.bound(never())).rejects.toThrow('within 40 ms');
    await later(60, null);
    const t = performance.now();
    await expect(d.bound(never())).rejects.toThrow('within 40 ms');
    expect(performance.now() - t).toBeLessThan(120);
  });
});
