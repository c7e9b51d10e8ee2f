import type { ChecklistEntry } from '../core/index.js';
import type { Condition, Flow, KnowledgeBase, Route } from '../knowledge/index.js';
import { normalize } from '../nlu/index.js';
import { dueDate } from './dates.js';
import type { SlotValue } from './slots.js';

type Answers = Record<string, SlotValue>;

/** Whether a condition holds for the answers so far. */
export function holds(cond: Condition | undefined, answers: Answers): boolean {
  if (!cond) return true;
  return Object.entries(cond).every(([slot, want]) => {
    const got = answers[slot];
    if (got === undefined) return false;
    if (Array.isArray(want)) return want.includes(got);
    if (typeof want === 'object' && want !== null) {
      const n = Number(got);
      if (want.lte !== undefined && !(n <= want.lte)) return false;
      if (want.lt !== undefined && !(n < want.lt)) return false;
      if (want.gte !== undefined && !(n >= want.gte)) return false;
      if (want.gt !== undefined && !(n > want.gt)) return false;
      if (want.not !== undefined && got === want.not) return false;
      return true;
    }
    return got === want;
  });
}

/** The application's route: the first route whose condition holds. */
export function routeOf(flow: Flow, answers: Answers): Route | undefined {
  return flow.routes.find((r) => holds(r.when, answers));
}

/** The items the answers bring in, in flow order. */
export function itemsOf(flow: Flow, answers: Answers): string[] {
  const ids = new Set<string>(routeOf(flow, answers)?.items ?? []);
  for (const b of flow.bring) if (holds(b.when, answers)) b.items.forEach((i) => ids.add(i));
  return flow.items.filter((i) => ids.has(i)).concat([...ids].filter((i) => !flow.items.includes(i)));
}

/** The materials checklist: de-duplicated across items, each 必备 or 可容缺. */
export function checklistOf(kb: KnowledgeBase, flow: Flow, answers: Answers): ChecklistEntry[] {
  const route = routeOf(flow, answers);
  // A 零资料 route waives its own items' materials; items brought in for other needs keep theirs.
  const waived = new Set(route?.noMaterials ? route.items : []);
  const byName = new Map<string, ChecklistEntry>();
  const add = (m: { name: string; requirement: '必备' | '可容缺'; commitment: boolean }, item: string) => {
    const key = normalize(m.name).replace(/\s/g, '');
    const prev = byName.get(key);
    if (prev) {
      if (!prev.items.includes(item)) prev.items.push(item);
      // A material one item needs for sure is 必备 for the whole application.
      if (m.requirement === '必备') prev.requirement = '必备';
      prev.commitment = prev.commitment && m.commitment;
    } else byName.set(key, { name: m.name, requirement: m.requirement, commitment: m.commitment, items: [item] });
  };
  for (const id of itemsOf(flow, answers)) if (!waived.has(id)) kb.items.get(id)?.materials.forEach((m) => add(m, id));
  for (const b of flow.bring) if (holds(b.when, answers)) b.materials.forEach((m) => add(m, flow.id));
  return [...byName.values()].sort((a, b) => (a.requirement === b.requirement ? 0 : a.requirement === '必备' ? -1 : 1));
}

/** The time limit of the application: the route's, else the longest of its items. */
export function timeLimitOf(kb: KnowledgeBase, flow: Flow, answers: Answers, now: Date): { value: number; unit: '工作日' | '自然日'; due: string } {
  const route = routeOf(flow, answers);
  if (route?.timeLimit) return { ...route.timeLimit, due: dueDate(now, route.timeLimit.value, route.timeLimit.unit) };
  let best = { value: 0, unit: '工作日' as '工作日' | '自然日', due: dueDate(now, 0, '工作日') };
  for (const id of itemsOf(flow, answers)) {
    const t = kb.items.get(id)?.timeLimit;
    if (!t) continue;
    const due = dueDate(now, t.value, t.unit);
    if (due > best.due) best = { value: t.value, unit: t.unit, due };
  }
  return best;
}

/** The next-step texts that apply. */
export function nextStepsOf(flow: Flow, answers: Answers): string[] {
  return flow.nextSteps.filter((n) => holds(n.when, answers)).map((n) => n.text);
}
