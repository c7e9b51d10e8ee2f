import type { Calibration } from './confidence.js';
import type { Candidate, TargetKey } from './retriever.js';

/** Thresholds for turning a ranking into a decision; calibrated by `npm run calibrate` on the project's fixtures. */
export interface Thresholds {
  /** Below this coverage of the message's words, nothing matched: fallback. */
  minCoverage: number;
  /** Below this top score, nothing matched: fallback. */
  minScore: number;
  /** When the runner-up scores at least this share of the top, ask which one. */
  clarifyRatio: number;
  /** A flow within this share of the top wins when the message asks for several things done together. */
  flowCueRatio: number;
  /** Items within this share of the top count as strong when checking whether a message spans a flow. */
  multiItemRatio: number;
  /** Overrides the calibration's answer point (confidence at or above which the top is answered). */
  answerAt?: number;
  /** Overrides the calibration's clarify point. */
  clarifyAt?: number;
  /** Overrides the calibration's margin point. */
  marginAt?: number;
}

/** Default thresholds (see README: calibration). */
export const DEFAULT_THRESHOLDS: Thresholds = { minCoverage: 0.35, minScore: 6, clarifyRatio: 0.95, flowCueRatio: 0.55, multiItemRatio: 0.6 };

/** What the ranking says, before handoff/smalltalk/scope rules. */
export type RankDecision =
  | { decision: 'answer'; key: TargetKey }
  | { decision: 'flow'; key: TargetKey }
  | { decision: 'clarify'; keys: TargetKey[] }
  | { decision: 'fallback' };

/** True when `a` and `b` point to the same service (an item and a flow that links it). */
function overlaps(a: TargetKey, b: TargetKey, flowItems: (id: string) => string[]): boolean {
  if (a === b) return true;
  const [ka, ia] = a.split(':') as [string, string];
  const [kb, ib] = b.split(':') as [string, string];
  if (ka === 'flow' && kb === 'item') return flowItems(ia).includes(ib);
  if (ka === 'item' && kb === 'flow') return flowItems(ib).includes(ia);
  return false;
}

/** Picks answer / flow / clarify / fallback from ranked candidates. */
export function decideFromRanking(
  ranked: Candidate[],
  opts: { flowCue: boolean; thresholds: Thresholds; flowItems: (id: string) => string[] },
): RankDecision {
  const t = opts.thresholds;
  const top = ranked[0];
  if (!top || top.score < t.minScore || top.coverage < t.minCoverage) return { decision: 'fallback' };
  // Two strong items of one flow in the ranking, and the flow itself close: the message spans that flow.
  const strongItems = ranked.filter((c) => c.key.startsWith('item:') && c.score >= top.score * t.multiItemRatio).slice(0, 3).map((c) => c.key.slice(5));
  const spanning = ranked.find(
    (c) => c.key.startsWith('flow:') && c.score >= top.score * t.flowCueRatio && opts.flowItems(c.key.slice(5)).filter((i) => strongItems.includes(i)).length >= 2,
  );
  if (spanning) return { decision: 'flow', key: spanning.key };
  if (opts.flowCue) {
    const flow = ranked.find((c) => c.key.startsWith('flow:') && c.score >= top.score * t.flowCueRatio);
    if (flow) return { decision: 'flow', key: flow.key };
  }
  const rivals = ranked.filter((c) => c !== top && c.score >= top.score * t.clarifyRatio && !overlaps(top.key, c.key, opts.flowItems));
  if (rivals.length) {
    const keys = [top.key, ...rivals.map((r) => r.key)].slice(0, 4);
    return { decision: 'clarify', keys };
  }
  if (top.key.startsWith('flow:')) {
    // A flow wins only when the message asks for it; otherwise answer the flow's best-matching item.
    const item = ranked.find((c) => c.key.startsWith('item:') && overlaps(top.key, c.key, opts.flowItems) && c.score >= top.score * t.clarifyRatio);
    return item ? { decision: 'answer', key: item.key } : { decision: 'flow', key: top.key };
  }
  return { decision: 'answer', key: top.key };
}

/** Least share of the top's fused score for a runner-up to be offered in a clarify. */
const OPTION_SHARE = 0.35;

/**
 * Decides from the fused ranking with a calibrated confidence instead of fixed score gates:
 * confident → answer (or flow); unsure with water words or some confidence → clarify with the top 2–4; else fallback.
 */
export function decideCalibrated(
  ranked: Candidate[],
  opts: {
    confidence: number;
    domain: boolean;
    flowCue: boolean;
    /** The flow the message spans by naming two or more of its items (Signals.multiItemFlow); a function: only asked when it can matter. */
    multiFlow: string | null | (() => string | null);
    /** A flow a statement names by its own situation word (Signals.situationFlow): a cue for that flow alone; a function likewise. */
    situation?: string | null | (() => string | null);
    thresholds: Thresholds;
    calibration: Calibration;
    flowItems: (id: string) => string[];
  },
): RankDecision {
  const top = ranked[0];
  if (!top) return { decision: 'fallback' };
  const answerAt = opts.thresholds.answerAt ?? opts.calibration.answerAt;
  const clarifyAt = opts.thresholds.clarifyAt ?? opts.calibration.clarifyAt;
  const multiFlow = opts.confidence >= clarifyAt ? valueOf(opts.multiFlow) : null;
  if (multiFlow) return { decision: 'flow', key: `flow:${multiFlow}` };
  // "拆迁销户一件事怎么办理": asked as a whole, a flow in the top two wins over its own items.
  const topFlow = ranked.slice(0, 2).find((c) => c.key.startsWith('flow:'));
  const situation = !opts.flowCue && topFlow ? valueOf(opts.situation) : null;
  const cued = opts.flowCue ? topFlow : ranked.slice(0, 2).find((c) => situation && c.key === `flow:${situation}`);
  if (cued && opts.confidence >= clarifyAt && ranked.slice(0, 2).every((c) => c === cued || overlaps(cued.key, c.key, opts.flowItems))) return { decision: 'flow', key: cued.key };
  const marginAt = opts.thresholds.marginAt ?? opts.calibration.marginAt ?? Infinity;
  // Confident, or clearly ahead of every rival that is another service: answer. Clarify only between close rivals.
  if (opts.confidence >= answerAt || (opts.confidence > clarifyAt && rivalMargin(ranked, opts.flowItems) >= marginAt)) {
    const t = { ...opts.thresholds, minScore: -Infinity, minCoverage: -Infinity };
    return decideFromRanking(ranked, { flowCue: opts.flowCue, thresholds: t, flowItems: opts.flowItems });
  }
  if (!opts.domain && opts.confidence < clarifyAt) return { decision: 'fallback' };
  const options = clarifyOptions(ranked, opts.flowItems);
  return options.length >= 2 ? { decision: 'clarify', keys: options } : { decision: 'fallback' };
}

/** 1 − the best rival's share of the top's fused score, counting only rivals that are another service (not the top's flow or items). */
export function rivalMargin(ranked: Candidate[], flowItems: (id: string) => string[]): number {
  const top = ranked[0];
  if (!top || top.score <= 0) return 0;
  const rival = ranked.slice(1).find((c) => !overlaps(top.key, c.key, flowItems));
  return rival ? 1 - rival.score / top.score : 1;
}

/** The top 2–4 distinct targets: the top, then runners-up with a fair share of its score (always at least one). */
function clarifyOptions(ranked: Candidate[], flowItems: (id: string) => string[]): TargetKey[] {
  const top = ranked[0]!;
  const out: TargetKey[] = [top.key];
  for (const c of ranked.slice(1)) {
    if (out.length >= 4) break;
    if (out.length >= 2 && c.score < top.score * OPTION_SHARE) break;
    if (out.some((k) => overlaps(k, c.key, flowItems) && k.startsWith('item:') === c.key.startsWith('item:'))) continue;
    out.push(c.key);
  }
  return out;
}

/** A value, or the value a function gives. */
function valueOf<T>(v: T | (() => T)): T {
  return typeof v === 'function' ? (v as () => T)() : v;
}
