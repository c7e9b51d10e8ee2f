import { describe, expect, it } from 'vitest';
import { buildDashboard, type Handoff } from '../../src/handoff/index.js';

const at = (s: number) => new Date(Date.parse('2026-12-01T02:00:00Z') + s * 1000).toISOString();
function handoff(n: number, waitS: number | null, extra: Partial<Handoff> = {}): Handoff {
  return { id: `h-${n}`, conversationId: `c${n}`, channel: 'web', reason: 'user-request', priority: 'asked', summary: '', status: 'closed', createdAt: at(0), ...(waitS === null ? {} : { claimedAt: at(waitS) }), transfers: [], returns: [], secrets: [], raw: {}, ...extra };
}

describe('dashboard figures', () => {
  it('counts by reason and priority, averages the wait to claim, takes the nearest-rank p90, averages CSAT', () => {
    const today = [
      ...Array.from({ length: 9 }, (_, i) => handoff(i, (i + 1) * 10)), // 10..90 s
      handoff(9, 600, { reason: 'urgent', priority: 'urgent', rating: { score: 2, stage: 'done' } }),
      handoff(10, null, { reason: 'complaint', priority: 'complaint', status: 'queued' }),
      handoff(11, 30, { rating: { score: 5, stage: 'done' } }),
    ];
    const d = buildDashboard({ day: '2026-12-01', today, callbacks: [{ status: 'open' }, { status: 'called' }, { status: 'unreachable' }, { status: 'resolved' }], agentsOnline: 2, waiting: 1 });
    expect(d.total).toBe(12);
    expect(d.byReason).toEqual({ 'user-request': 10, urgent: 1, complaint: 1 });
    expect(d.byPriority).toEqual({ urgent: 1, complaint: 1, asked: 10 });
    // Waits: 10,20,…,90, 600, 30 → 11 values; mean 1080/11 ≈ 98; nearest-rank p90 = 10th of 11 sorted = 90.
    expect(d.waitAvgS).toBe(98);
    expect(d.waitP90S).toBe(90);
    expect(d.csatAvg).toBe(3.5);
    expect(d.ratings).toBe(2);
    expect(d.callbackBacklog).toBe(2);
    expect(buildDashboard({ day: 'x', today: [], callbacks: [], agentsOnline: 0, waiting: 0 })).toMatchObject({ waitAvgS: null, waitP90S: null, csatAvg: null });
  });
});
