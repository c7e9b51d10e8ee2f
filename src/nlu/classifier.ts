import { ASPECTS, type Aspect, type KnowledgeBase } from '../knowledge/index.js';
import { Analyzer } from './analyzer.js';
import { DEFAULT_THRESHOLDS, decideFromRanking, type Thresholds } from './decide.js';
import { HomophoneFixer } from './homophones.js';
import { normalize } from './normalize.js';
import { Retriever, type Candidate, type TargetKey } from './retriever.js';
import { fuseDense } from './dense.js';
import type { ScoredKey } from './embeddings.js';

/** The decisions the understanding can reach. */
export type Decision = 'answer' | 'clarify' | 'flow' | 'handoff' | 'smalltalk' | 'fallback';

/** What the assistant understood of one message. */
export interface Understanding {
  decision: Decision;
  itemId: string | null;
  flowId: string | null;
  aspect: Aspect | null;
  /** Ranked targets, at most 5: `item:<id>` or `flow:<id>`. */
  candidates: TargetKey[];
  /** For clarify: the 2–4 targets offered. */
  options?: TargetKey[];
  /** The smalltalk intent id. */
  smalltalk?: string;
  /** The out-of-scope topic, when the message is about another business. */
  scopeTopic?: string;
  /** The message describes an emergency: offer a person at once. */
  urgent: boolean;
  /** Targets the message names by alias or keyword. */
  named?: TargetKey[];
  /** Debug: the scored ranking. */
  ranking?: Candidate[];
}

/** Classifies user messages against the knowledge base. */
export interface Classifier {
  /** Classifies one message; thresholds default to the classifier's own. */
  classify(text: string, thresholds?: Thresholds, dense?: ScoredKey[]): Understanding;
  /** Just the aspect a text asks about (for follow-ups). */
  aspectOf(text: string): Aspect | null;
  /** Ranks targets for a text, for re-ranking by other signals. */
  rank(text: string): Candidate[];
}

/** Longest input the understanding reads; the rest of a huge message is ignored. */
const MAX_CHARS = 400;

/** Builds the classifier from the knowledge base. */
export function createClassifier(kb: KnowledgeBase, thresholds: Thresholds = DEFAULT_THRESHOLDS): Classifier {
  const domainWords = [
    ...kb.synonyms.domainWords,
    ...kb.synonyms.groups.flat(),
    ...[...kb.items.values()].flatMap((i) => [...i.aliases, ...i.keywords]),
    ...[...kb.flows.values()].flatMap((f) => f.keywords),
  ];
  const analyzer = new Analyzer(kb.synonyms, kb.intents.stopwords, domainWords);
  const homophones = new HomophoneFixer(domainWords.map((w) => normalize(w)));
  const retriever = new Retriever(kb, analyzer);
  const norm = (list: string[]) => list.map((p) => normalize(p)).filter(Boolean);
  const handoff = norm(kb.intents.handoff.patterns);
  const handoffExact = new Set(norm(kb.intents.handoff.exact));
  const handoffExclude = norm(kb.intents.handoff.exclude);
  const urgent = norm(kb.intents.urgent.patterns);
  const flowCues = norm(kb.intents.flowCues);
  const scope = kb.intents.outOfScope.map((s) => ({ topic: s.topic, words: norm(s.words) }));
  const aspects = ASPECTS.map((a) => ({ aspect: a, patterns: norm(kb.intents.aspects[a]) }));
  const smalltalk = kb.smalltalk.intents.map((i) => ({ id: i.id, patterns: norm(i.patterns).sort((a, b) => b.length - a.length) }));
  const stop = new Set(norm(kb.intents.stopwords));

  const prepare = (text: string) => {
    const clean = analyzer.clean(text.slice(0, MAX_CHARS));
    return homophones.fix(clean, analyzer.segment(clean));
  };
  const has = (s: string, list: string[]) => list.some((p) => s.includes(p));

  const aspectIn = (s: string): Aspect | null => {
    let best: { aspect: Aspect; len: number } | null = null;
    for (const { aspect, patterns } of aspects)
      for (const p of patterns) if (s.includes(p) && (!best || p.length > best.len)) best = { aspect, len: p.length };
    return best?.aspect ?? null;
  };

  const isHandoff = (s: string) => {
    if (handoffExact.has(s.replace(/\s/g, ''))) return true;
    let rest = s;
    for (const x of handoffExclude) rest = rest.split(x).join(' ');
    return has(rest, handoff);
  };

  /** The smalltalk intent of a message, and the message without its smalltalk ("你好，过户要带什么" → "过户要带什么"). */
  const smalltalkIn = (s: string): { id: string | null; rest: string } => {
    let rest = s;
    let found: string | null = null;
    const whole = s.replace(/\s/g, '');
    for (const i of smalltalk)
      for (const p of i.patterns)
        // One-character patterns (好, 嗯) count only as the whole message.
        if (p.length === 1 ? whole === p : rest.includes(p)) {
          found ??= i.id;
          rest = rest.split(p).join(' ');
        }
    if (!found) return { id: null, rest: s };
    const left = analyzer.analyze(rest).words.filter((w) => !stop.has(w));
    return left.length === 0 ? { id: found, rest: '' } : { id: null, rest: rest.replace(/\s+/g, ' ').trim() };
  };

  const scopeTopic = (s: string): string | null => {
    if (s.includes('水')) return null;
    return scope.find((t) => has(s, t.words))?.topic ?? null;
  };

  const aspectWords = aspects.flatMap((a) => a.patterns).sort((a, b) => b.length - a.length);
  const withoutAspects = (s: string) => aspectWords.reduce((t, p) => (t.includes(p) ? t.split(p).join(' ') : t), s);
  /** Analyses a prepared text once and ranks it; the analysis and term hits are reused by the decision. */
  const analyzeAndRank = (s: string) => {
    const full = analyzer.analyze(s);
    const core = analyzer.analyze(withoutAspects(s));
    const hits = retriever.termHits(full);
    // A message that is only aspect words ("哪些业务可以在网上办") keeps them at full weight.
    return { full, hits, ranked: retriever.rank(full, core.words.length ? core : full, 8, hits) };
  };
  const rank = (text: string) => {
    const s = prepare(text);
    return analyzeAndRank(smalltalkIn(s).rest || s).ranked;
  };

  // A message that names two or more items of one flow ("过户、查欠费、签代扣") asks for that flow.
  const itemTerms = new Map([...kb.items.values()].map((i) => [i.id, [...new Set([...i.aliases, ...i.keywords].map((t) => analyzer.analyze(t).text).filter((t) => t.length >= 2))]]));
  const multiItemFlow = (folded: string, ranked: Candidate[]): string | null => {
    const scoreOf = (id: string) => ranked.find((c) => c.key === `flow:${id}`)?.score ?? 0;
    let best: { id: string; n: number; score: number } | null = null;
    for (const flow of kb.flows.values()) {
      const n = flow.items.filter((id) => (itemTerms.get(id) ?? []).some((t) => folded.includes(t))).length;
      const score = scoreOf(flow.id);
      if (n >= 2 && score > 0 && (!best || n > best.n || (n === best.n && score > best.score))) best = { id: flow.id, n, score };
    }
    return best?.id ?? null;
  };

  const classify = (text: string, t: Thresholds = thresholds, dense?: ScoredKey[]): Understanding => {
    const s = prepare(text);
    const base = { itemId: null, flowId: null, aspect: aspectIn(s), candidates: [] as TargetKey[], urgent: has(s, urgent) };
    if (!s) return { ...base, decision: 'fallback' };
    if (isHandoff(s)) return { ...base, decision: 'handoff' };
    const st = smalltalkIn(s);
    if (st.id) return { ...base, decision: 'smalltalk', smalltalk: st.id };
    const topic = scopeTopic(s);
    if (topic) return { ...base, decision: 'fallback', scopeTopic: topic };
    // Greetings and thanks around a question are not part of it.
    const q = st.rest;
    const lexical = analyzeAndRank(q);
    const ranked = dense ? fuseDense(lexical.ranked, dense) : lexical.ranked;
    const candidates = ranked.slice(0, 5).map((c) => c.key);
    const multi = multiItemFlow(lexical.full.text, ranked);
    const d = multi
      ? ({ decision: 'flow', key: `flow:${multi}` } as const)
      : decideFromRanking(ranked, { flowCue: has(q, flowCues), thresholds: t, flowItems: (id) => retriever.flowItems(id) });
    const out = { ...base, candidates, ranking: ranked, named: q === s ? [...lexical.hits.keys()] : retriever.named(analyzer.analyze(s)) };
    switch (d.decision) {
      case 'answer':
        return { ...out, decision: 'answer', itemId: d.key.slice(5) };
      case 'flow':
        return { ...out, decision: 'flow', flowId: d.key.slice(5) };
      case 'clarify':
        return { ...out, decision: 'clarify', options: d.keys };
      default:
        return { ...out, decision: 'fallback' };
    }
  };

  return { classify, aspectOf: (text) => aspectIn(prepare(text)), rank };
}
