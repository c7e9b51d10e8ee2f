import { PRIORITIES, type HandoffQueue, type Priority, type QueueEntry } from './types.js';

/** The waiting line in this process: insertion order per priority, last-seen time per claim. */
export function createMemoryHandoffQueue(now: () => number = Date.now): HandoffQueue {
  const entries = new Map<string, { priority: Priority; agent: string | null; order: number; seen: number }>();
  let order = 0;
  return {
    async add(handoffId, priority) {
      if (!entries.has(handoffId)) entries.set(handoffId, { priority, agent: null, order: order++, seen: now() });
    },
    async assign(handoffId, agent) {
      const e = entries.get(handoffId);
      if (e) Object.assign(e, { agent, seen: now() });
    },
    async unassign(handoffId) {
      const e = entries.get(handoffId);
      if (e) Object.assign(e, { agent: null, seen: now() });
    },
    async remove(handoffId) {
      entries.delete(handoffId);
    },
    async touch(agent, ids) {
      for (const id of ids) {
        const e = entries.get(id);
        if (e?.agent === agent) e.seen = now();
      }
    },
    async idleClaims(idleMs) {
      const t = now();
      return [...entries].filter(([, e]) => e.agent && t - e.seen > idleMs).map(([handoffId, e]) => ({ handoffId, priority: e.priority, agent: e.agent }));
    },
    async entries() {
      return [...entries]
        .sort(([, a], [, b]) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.order - b.order)
        .map(([handoffId, e]): QueueEntry => ({ handoffId, priority: e.priority, agent: e.agent }));
    },
    async close() {},
  };
}
