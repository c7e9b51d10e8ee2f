import type { AnalyticsEvent } from '../store/index.js';
import { clusterTexts, cmp } from './cluster.js';
import type { RatingEventData, TurnEventData } from './events.js';

/** Names and step order the report labels its numbers with (from the knowledge base). */
export interface ReportCatalog {
  itemTitle?(id: string): string | undefined;
  flowTitle?(id: string): string | undefined;
  /** A flow's step ids in order (the funnel's columns). */
  flowSteps?(id: string): string[];
  /** What a flow's step is called ("身份证号码"). */
  stepLabel?(flowId: string, stepId: string): string | undefined;
}

/** Report options. */
export interface ReportOptions {
  /** The report's clock: a conversation still inside a flow, idle longer than `idleMs`, counts as abandoned there. */
  now?: Date;
  idleMs?: number;
  /** Most entries in top lists and unanswered groups. */
  top?: number;
  catalog?: ReportCatalog;
}

/** Count and share of a named thing. */
export interface Counted {
  id: string;
  title?: string;
  count: number;
}

/** Everything the analytics page shows. */
export interface AnalyticsReport {
  range: { from?: string; to?: string; events: number };
  conversations: number;
  turns: number;
  /** Conversations that ended without a person (no handoff, no agent turn), overall and by item discussed. */
  containment: { rate: number; contained: number; conversations: number; byItem: Array<Counted & { contained: number; rate: number }> };
  /** Answers per item and flow starts per flow, per day (YYYY-MM-DD). */
  daily: Array<{ day: string; turns: number; items: Counted[]; flows: Counted[] }>;
  topItems: Counted[];
  topFlows: Counted[];
  /** Shares of bot turns (the engine answered) that were a clarify menu or a fallback. */
  rates: { botTurns: number; clarify: number; fallback: number; clarifyRate: number; fallbackRate: number; noneOfThese: number };
  handoffReasons: Counted[];
  csat: { ratings: number; average: number | null; satisfiedRate: number | null; byItem: Array<Counted & { average: number; satisfiedRate: number }> };
  applications: Counted[];
  /** Per flow: started, submitted, and where the others left. */
  funnel: Array<{ flowId: string; title?: string; started: number; submitted: number; abandoned: number; steps: Array<{ step: string; label?: string; abandoned: number }> }>;
  unanswered: UnansweredGroup[];
}

/** A group of similar questions the assistant could not answer. */
export interface UnansweredGroup {
  label: string;
  count: number;
  fallback: number;
  noneOfThese: number;
  examples: string[];
  lastAt: string;
}

const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 10_000) / 10_000 : 0);

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function ranked(map: Map<string, number>, title?: (id: string) => string | undefined, top = Infinity): Counted[] {
  return [...map]
    .sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))
    .slice(0, top)
    .map(([id, count]) => ({ id, ...(title?.(id) ? { title: title(id) } : {}), count }));
}

type TurnEv = AnalyticsEvent & { data: TurnEventData & Record<string, unknown> };
type RatingEv = AnalyticsEvent & { data: RatingEventData & Record<string, unknown> };

/** Per-conversation facts the containment, CSAT and funnel need. */
interface Conv {
  items: Set<string>;
  lastItem?: string;
  escalated: boolean;
  /** The flow running after the conversation's latest event, and since when. */
  openFlow?: { flowId: string; step: string; at: string };
}

/** Aggregates events into the analytics report. */
export function buildReport(events: AnalyticsEvent[], o: ReportOptions = {}): AnalyticsReport {
  const cat = o.catalog ?? {};
  const top = o.top ?? 20;
  const turns = events.filter((e): e is TurnEv => e.kind === 'turn');
  const ratings = events.filter((e): e is RatingEv => e.kind === 'rating' && typeof e.data.score === 'number');
  const convs = new Map<string, Conv>();
  const conv = (id: string) => convs.get(id) ?? (convs.set(id, { items: new Set(), escalated: false }), convs.get(id)!);
  const items = new Map<string, number>();
  const flows = new Map<string, number>();
  const reasons = new Map<string, number>();
  const apps = new Map<string, number>();
  const days = new Map<string, { turns: number; items: Map<string, number>; flows: Map<string, number> }>();
  const funnel = new Map<string, { started: number; submitted: number; steps: Map<string, number> }>();
  const flowOf = (id: string) => funnel.get(id) ?? (funnel.set(id, { started: 0, submitted: 0, steps: new Map() }), funnel.get(id)!);
  const misses: Array<{ text: string; source: 'fallback' | 'noneOfThese'; at: string }> = [];
  let botTurns = 0;
  let clarify = 0;
  let fallback = 0;
  let noneOfThese = 0;

  for (const e of [...turns].sort((a, b) => cmp(a.at, b.at))) {
    const d = e.data;
    const c = conv(e.conversationId);
    const day = days.get(e.day) ?? (days.set(e.day, { turns: 0, items: new Map(), flows: new Map() }), days.get(e.day)!);
    day.turns++;
    if (d.decision !== 'agent') botTurns++;
    if (d.decision === 'agent' || d.decision === 'handoff') c.escalated = true;
    if (d.decision === 'handoff') bump(reasons, d.handoffReason ?? 'unknown');
    if (d.decision === 'answer' && d.itemId) {
      bump(items, d.itemId);
      bump(day.items, d.itemId);
      c.items.add(d.itemId);
      c.lastItem = d.itemId;
    }
    if (d.decision === 'flow-start' && d.flowId) {
      bump(flows, d.flowId);
      bump(day.flows, d.flowId);
      flowOf(d.flowId).started++;
    }
    if (d.decision === 'application' && d.applicationFlow) {
      bump(apps, d.applicationFlow);
      flowOf(d.applicationFlow).submitted++;
    }
    if (d.abandonedFlow) bump(flowOf(d.abandonedFlow).steps, d.abandonedAt ?? '?');
    c.openFlow = d.flowId && d.flowStep && d.decision !== 'application' ? { flowId: d.flowId, step: d.flowStep, at: e.at } : undefined;
    if (d.decision === 'clarify') clarify++;
    if (d.decision === 'fallback') {
      fallback++;
      if (d.text) misses.push({ text: d.text, source: 'fallback', at: e.at });
    }
    if (d.noneOfThese) {
      noneOfThese++;
      if (d.text) misses.push({ text: d.text, source: 'noneOfThese', at: e.at });
    }
  }

  // A flow still open but idle past the limit was left at its current step.
  const now = (o.now ?? new Date()).getTime();
  for (const c of convs.values()) {
    if (c.openFlow && now - Date.parse(c.openFlow.at) > (o.idleMs ?? 30 * 60_000)) bump(flowOf(c.openFlow.flowId).steps, c.openFlow.step);
  }

  const all = [...convs.values()];
  const contained = all.filter((c) => !c.escalated).length;
  const byItem = new Map<string, { n: number; ok: number }>();
  for (const c of all) for (const it of c.items) {
    const b = byItem.get(it) ?? { n: 0, ok: 0 };
    b.n++;
    if (!c.escalated) b.ok++;
    byItem.set(it, b);
  }

  const csatBy = new Map<string, number[]>();
  for (const r of ratings) {
    const item = r.data.itemId ?? convs.get(r.conversationId)?.lastItem;
    if (item) csatBy.set(item, [...(csatBy.get(item) ?? []), r.data.score]);
  }
  const avg = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
  const satisfied = (xs: number[]) => ratio(xs.filter((x) => x >= 4).length, xs.length);
  const scores = ratings.map((r) => r.data.score);

  return {
    range: { events: events.length },
    conversations: convs.size,
    turns: turns.length,
    containment: {
      rate: ratio(contained, convs.size),
      contained,
      conversations: convs.size,
      byItem: [...byItem]
        .sort((a, b) => b[1].n - a[1].n || cmp(a[0], b[0]))
        .map(([id, b]) => ({ id, ...(cat.itemTitle?.(id) ? { title: cat.itemTitle(id) } : {}), count: b.n, contained: b.ok, rate: ratio(b.ok, b.n) })),
    },
    daily: [...days].sort((a, b) => cmp(a[0], b[0])).map(([day, v]) => ({ day, turns: v.turns, items: ranked(v.items, cat.itemTitle, top), flows: ranked(v.flows, cat.flowTitle, top) })),
    topItems: ranked(items, cat.itemTitle, top),
    topFlows: ranked(flows, cat.flowTitle, top),
    rates: { botTurns, clarify, fallback, clarifyRate: ratio(clarify, botTurns), fallbackRate: ratio(fallback, botTurns), noneOfThese },
    handoffReasons: ranked(reasons),
    csat: {
      ratings: scores.length,
      average: scores.length ? avg(scores) : null,
      satisfiedRate: scores.length ? satisfied(scores) : null,
      byItem: [...csatBy].sort((a, b) => b[1].length - a[1].length || cmp(a[0], b[0])).map(([id, xs]) => ({ id, ...(cat.itemTitle?.(id) ? { title: cat.itemTitle(id) } : {}), count: xs.length, average: avg(xs), satisfiedRate: satisfied(xs) })),
    },
    applications: ranked(apps, cat.flowTitle),
    funnel: [...funnel].sort((a, b) => b[1].started - a[1].started || cmp(a[0], b[0])).map(([flowId, f]) => {
      const order = cat.flowSteps?.(flowId) ?? [];
      const known = [...order, ...[...f.steps.keys()].filter((s) => !order.includes(s))];
      const steps = known.filter((s) => f.steps.has(s)).map((step) => ({ step, ...(cat.stepLabel?.(flowId, step) ? { label: cat.stepLabel(flowId, step) } : {}), abandoned: f.steps.get(step)! }));
      return { flowId, ...(cat.flowTitle?.(flowId) ? { title: cat.flowTitle(flowId) } : {}), started: f.started, submitted: f.submitted, abandoned: steps.reduce((n, s) => n + s.abandoned, 0), steps };
    }),
    unanswered: unanswered(misses, top),
  };
}

/** Fallback texts and "都不是" questions grouped by similarity, largest first. */
export function unanswered(misses: Array<{ text: string; source: 'fallback' | 'noneOfThese'; at: string }>, top = 50): UnansweredGroup[] {
  return clusterTexts(misses, (m) => m.text)
    .slice(0, top)
    .map((g) => ({
      label: g.label,
      count: g.count,
      fallback: g.members.filter((m) => m.source === 'fallback').length,
      noneOfThese: g.members.filter((m) => m.source === 'noneOfThese').length,
      examples: [...new Set(g.members.map((m) => m.text))].slice(0, 5),
      lastAt: g.members.map((m) => m.at).sort().at(-1)!,
    }));
}

const cell = (v: string | number) => {
  const s = String(v);
  // A leading = + - @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** The unanswered groups as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese right). */
export function unansweredCsv(groups: UnansweredGroup[]): string {
  const rows = [['count', 'question', 'fallback', 'none_of_these', 'examples', 'last_at'], ...groups.map((g) => [g.count, g.label, g.fallback, g.noneOfThese, g.examples.join(' | '), g.lastAt])];
  return `\uFEFF${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
