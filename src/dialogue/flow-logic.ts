import type { ChecklistEntry } from '../core/index.js';
import type { Condition, Flow, KnowledgeBase, Material, MaterialCondition, Route } from '../knowledge/index.js';
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

/** Whether a material is needed for these answers and items: `when` must hold, `unless` must not (an unasked slot holds neither), no `unlessWith` item may be in the application. */
export function materialApplies(m: Pick<Material, 'when' | 'unless'> & { unlessWith?: string[] }, answers: Answers, items: string[] = []): boolean {
  const test = (c: MaterialCondition) => Object.entries(c).every(([slot, want]) => answers[slot] !== undefined && (Array.isArray(want) ? want.includes(answers[slot]!) : answers[slot] === want));
  if (m.unlessWith?.some((id) => items.includes(id))) return false;
  return (!m.when || test(m.when)) && (!m.unless || !test(m.unless));
}

/** What an application is made of: its items, and (for a 一件事) the route and the flow's own extra materials. */
export interface ApplicationScope {
  items: string[];
  route?: Route;
  extra?: Material[];
  /** Who the extra materials belong to (the flow id). */
  owner?: string;
}

/** The scope of a 一件事 for these answers. */
export function scopeOf(flow: Flow, answers: Answers): ApplicationScope {
  const extra = flow.bring.filter((b) => holds(b.when, answers)).flatMap((b) => b.materials);
  return { items: itemsOf(flow, answers), route: routeOf(flow, answers), extra, owner: flow.id };
}

/** The materials checklist of a 一件事: see checklistFor. */
export function checklistOf(kb: KnowledgeBase, flow: Flow, answers: Answers): ChecklistEntry[] {
  return checklistFor(kb, scopeOf(flow, answers), answers);
}

/**
 * The materials checklist: only materials whose conditions the answers meet, merged by material id across items
 * (the first item's wording is kept), 必备 before 可容缺.
 */
export function checklistFor(kb: KnowledgeBase, scope: ApplicationScope, answers: Answers): ChecklistEntry[] {
  // A 零资料 route waives its own items' materials; items brought in for other needs keep theirs.
  const waived = new Set(scope.route?.noMaterials ? scope.route.items : []);
  const byId = new Map<string, ChecklistEntry>();
  const add = (m: Material, item: string) => {
    if (!materialApplies(m, answers, scope.items)) return;
    const prev = byId.get(m.id);
    if (!prev) {
      byId.set(m.id, { id: m.id, name: m.name, requirement: m.requirement, commitment: m.commitment, items: [item] });
      return;
    }
    if (!prev.items.includes(item)) prev.items.push(item);
    // A material one item needs for sure is 必备 for the whole application, and then no promise stands in for it.
    if (m.requirement === '必备') prev.requirement = '必备';
    prev.commitment = prev.requirement === '可容缺' && prev.commitment && m.commitment;
  };
  for (const id of scope.items) if (!waived.has(id)) kb.items.get(id)?.materials.forEach((m) => add(m, id));
  for (const m of scope.extra ?? []) add(m, scope.owner ?? 'application');
  const list = [...byId.values()];
  return [...list.filter((m) => m.requirement === '必备'), ...list.filter((m) => m.requirement !== '必备')];
}

/** The 告知承诺 an application may sign: the items it applies to, the missing materials, the promise text and the deadline. */
export interface CommitmentTerms {
  items: string[];
  materials: string[];
  text: string;
  days: number;
  dueBy: string;
  unverified: boolean;
}

/** The 告知承诺 of a 一件事 for these answers: see commitmentFor. */
export function commitmentOf(kb: KnowledgeBase, flow: Flow, answers: Answers, now: Date): CommitmentTerms | null {
  return commitmentFor(kb, scopeOf(flow, answers), answers, now);
}

/**
 * The 告知承诺 an application may sign, or null when none applies: only items marked 告知承诺马上办 that have a 可容缺
 * material on this checklist; the text promises only for those items and names only those materials.
 */
export function commitmentFor(kb: KnowledgeBase, scope: ApplicationScope, answers: Answers, now: Date): CommitmentTerms | null {
  const deferrable = checklistFor(kb, scope, answers).filter((m) => m.requirement === '可容缺' && m.commitment);
  const items = scope.items.filter((id) => kb.items.get(id)?.commitment && deferrable.some((m) => m.items.includes(id)));
  if (!items.length) return null;
  const terms = items.map((id) => kb.items.get(id)!.commitment!);
  const materials = deferrable.filter((m) => m.items.some((i) => items.includes(i))).map((m) => m.name);
  const { days, unverified } = kb.utility.commitment;
  const text = [
    `本人（本单位）承诺：${terms.map((t) => t.promise).join('；')}。`,
    // The period itself is stated beside the text (as 参考 while the source gives none).
    `对暂缺的可容缺材料（${materials.map((n) => n.replace(/（.*?）/g, '')).join('、')}），将在承诺期限内补齐。`,
    `逾期未补齐或承诺不实的，${terms.map((t) => t.breach).join('；')}，由此产生的责任由本人（本单位）承担。`,
  ].join('\n');
  return { items, materials, text, days, dueBy: dueDate(now, days, '自然日'), unverified };
}

/** An application's time limit; `due` is null while the clock has not started (materials missing, no 告知承诺). */
export interface ApplicationTimeLimit {
  value: number;
  unit: '工作日' | '自然日';
  due: string | null;
  /** Counted from acceptance, once the missing materials are in. */
  startsOnAcceptance: boolean;
  /** The limit that sets the due date is not given by the source. */
  unverified: boolean;
  /** The item whose limit sets the due date. */
  itemId?: string;
  /** The due date is a day the applicant chose for the work (搬离日期, 报停日期), later than the limit. */
  scheduled?: boolean;
}

/** The time limit of a 一件事: see timeLimitFor. */
export function timeLimitOf(kb: KnowledgeBase, flow: Flow, answers: Answers, now: Date, opts: { awaitingMaterials?: boolean } = {}): ApplicationTimeLimit {
  return timeLimitFor(kb, scopeOf(flow, answers), answers, now, opts);
}

/**
 * The time limit of an application: the latest due date of all its items. A route's limit stands for the route's own
 * items only; a date answered for an item's work (搬离日期, 报停日期) is a day the due date cannot be before.
 * With `awaitingMaterials` (告知承诺 declined) there is no fixed due date: the limit counts from acceptance.
 */
export function timeLimitFor(kb: KnowledgeBase, scope: ApplicationScope, answers: Answers, now: Date, opts: { awaitingMaterials?: boolean } = {}): ApplicationTimeLimit {
  const routeItems = new Set(scope.route?.timeLimit ? scope.route.items : []);
  let best: (ApplicationTimeLimit & { due: string }) | undefined;
  for (const id of scope.items) {
    const item = kb.items.get(id);
    if (!item) continue;
    const routed = routeItems.has(id) ? scope.route!.timeLimit! : undefined;
    const t = routed ?? item.timeLimit;
    let due = dueDate(now, t.value, t.unit);
    let scheduled = false;
    for (const slot of item.timeLimit.scheduledBy) {
      const day = answers[slot];
      if (typeof day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(day) && day > due) [due, scheduled] = [day, true];
    }
    const cand = { value: t.value, unit: t.unit, due, startsOnAcceptance: false, unverified: item.timeLimit.unverified || !!routed?.unverified, itemId: id, ...(scheduled ? { scheduled } : {}) };
    // Later due date wins; on the same day the longer limit does (a 0-day limit never hides a 1-day one on a weekend).
    if (!best || due > best.due || (due === best.due && t.value > best.value)) best = cand;
  }
  const limit: ApplicationTimeLimit = best ?? { value: 0, unit: '工作日', due: dueDate(now, 0, '工作日'), startsOnAcceptance: false, unverified: false };
  return opts.awaitingMaterials ? { ...limit, due: null, startsOnAcceptance: true } : limit;
}

/** The next-step texts that apply. */
export function nextStepsOf(flow: Flow, answers: Answers): string[] {
  return flow.nextSteps.filter((n) => holds(n.when, answers)).map((n) => n.text);
}
