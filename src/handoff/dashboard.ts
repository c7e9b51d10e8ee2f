import { PRIORITIES, type CallbackTicket, type Handoff } from './types.js';

/** The console dashboard's figures. */
export interface Dashboard {
  day: string;
  total: number;
  byReason: Record<string, number>;
  byPriority: Record<string, number>;
  waitAvgS: number | null;
  waitP90S: number | null;
  csatAvg: number | null;
  ratings: number;
  callbackBacklog: number;
  agentsOnline: number;
  waiting: number;
}

/** Today's figures from today's handoffs: by reason and priority, average and p90 wait to claim, CSAT, callback backlog. */
export function buildDashboard(input: { day: string; today: Handoff[]; callbacks: Pick<CallbackTicket, 'status'>[]; agentsOnline: number; waiting: number }): Dashboard {
  const { today } = input;
  const count = (key: (h: Handoff) => string) => today.reduce<Record<string, number>>((acc, h) => ({ ...acc, [key(h)]: (acc[key(h)] ?? 0) + 1 }), {});
  const waits = today.filter((h) => h.claimedAt).map((h) => (Date.parse(h.claimedAt!) - Date.parse(h.createdAt)) / 1000).sort((a, b) => a - b);
  const scores = today.map((h) => h.rating?.score).filter((s): s is number => typeof s === 'number');
  return {
    day: input.day,
    total: today.length,
    byReason: count((h) => h.reason),
    byPriority: Object.fromEntries(PRIORITIES.map((p) => [p, today.filter((h) => h.priority === p).length])),
    waitAvgS: waits.length ? Math.round(waits.reduce((a, b) => a + b, 0) / waits.length) : null,
    // Nearest-rank p90.
    waitP90S: waits.length ? Math.round(waits[Math.min(waits.length - 1, Math.ceil(0.9 * waits.length) - 1)]!) : null,
    csatAvg: scores.length ? Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 100) / 100 : null,
    ratings: scores.length,
    callbackBacklog: input.callbacks.filter((c) => c.status === 'open' || c.status === 'unreachable').length,
    agentsOnline: input.agentsOnline,
    waiting: input.waiting,
  };
}
