import { ASPECTS, type Aspect, type KnowledgeBase } from '../knowledge/index.js';
import { Analyzer, type Analysis } from './analyzer.js';
import { confidenceOf, loadCalibration, supported, UNSUPPORTED, type Calibration, type Evidence } from './confidence.js';
import { CueSet } from './cues.js';
import { dictionaryFor } from './dictionary.js';
import { decideCalibrated, DEFAULT_THRESHOLDS, type Thresholds } from './decide.js';
import { fuseDense } from './dense.js';
import type { ScoredKey } from './embeddings.js';
import { cachedJson } from '../core/disk-cache.js';
import { homophoneKey, HomophoneFixer } from './homophones.js';
import { pinyinOf } from './pinyin-input.js';
import type { SoftmaxClassifier } from './linear.js';
import { withMemo } from './memo.js';
import { normalize } from './normalize.js';
import { MAX_CHARS, MessageReader, type ReadMessage } from './reader.js';
import { Retriever, type Candidate, type TargetKey } from './retriever.js';
import { Signals } from './signals.js';
import { eachFeature, INTENT_LABELS, linearFor, type FeaturePrefix } from './training.js';
import { HANDOFF_PRIORITY, type HandoffReason, type Understanding } from './understanding.js';

export type { Decision, HandoffReason, Understanding } from './understanding.js';

/** Classifies user messages against the knowledge base. */
export interface Classifier {
  /** Classifies one message; thresholds default to the classifier's own. */
  classify(text: string, thresholds?: Thresholds, dense?: ScoredKey[]): Understanding;
  /** The language a message is written in (English, else Chinese: pinyin and digits count as Chinese). */
  langOf(text: string): 'zh' | 'en';
  /** Just the aspect a text asks about (for follow-ups). */
  aspectOf(text: string): Aspect | null;
  /** Ranks targets for a text (the fused ranking), for re-ranking by other signals. */
  rank(text: string): Candidate[];
  /** The evidence the calibrated confidence reads for a text's top candidate (for scripts/calibrate.ts). */
  evidence(text: string): { evidence: Evidence; top: TargetKey | null } | null;
  /** A classifier for one turn whose understanding of `text` is already computed off the event loop (pool.ts), when one can. */
  prefetch?(text: string): Promise<Classifier>;
}

/** Bump when the vocabulary or the pinyin keys change: cached start-up tables of older versions are ignored. */
const START_VERSION = 's1';
/** Weight of the story around the asking part, against the asking part itself. */
const CONTEXT_WEIGHT = 0.4;
/** Bigram overlap (Dice) at which a question is one of a guide's FAQs. */
const FAQ_MATCH = 0.5;
/** Least share of a channel's score for a service named beside it to be what is asked. */
const SERVICE_SHARE = 0.5;
/** Least share of a flow's score for an item of its own, named in the message, to rank above it. */
const OWN_ITEM_SHARE = 0.8;
/** How many targets of each ranking enter the fusion. */
const FUSE_DEPTH = 8;

/** What ranking one message produced, with the pieces the decision and the evidence need. */
interface Ranked {
  read: ReadMessage;
  ask: Analysis;
  /** The asking part is nothing but aspect words. */
  coreEmpty: boolean;
  lexical: Candidate[];
  linear: { label: string; p: number }[];
  fused: Candidate[];
  hits: Map<TargetKey, number>;
  domain: boolean;
  evidence: Evidence | null;
}

/** Builds the classifier from the knowledge base; `calibration` defaults to the committed src/nlu/calibration.json. */
export function createClassifier(kb: KnowledgeBase, thresholds: Thresholds = DEFAULT_THRESHOLDS, calibration: Calibration = loadCalibration()): Classifier {
  const domainWords = [
    ...kb.synonyms.domainWords,
    ...kb.synonyms.groups.flat(),
    ...[...kb.items.values()].flatMap((i) => [...i.aliases, ...i.keywords]),
    ...[...kb.flows.values()].flatMap((f) => f.keywords),
  ];
  const analyzer = new Analyzer(kb.synonyms, kb.intents.stopwords, domainWords, dictionaryFor(kb));
  const fixerWords = domainWords.map((w) => normalize(w));
  // The vocabulary and the pinyin of its words and of the domain words are most of a start: cached by knowledge hash.
  const start = cachedJson(`start-${START_VERSION}`, kb.hash, () => {
    const vocab = vocabulary(kb, analyzer);
    return {
      vocab: [...vocab],
      reader: Object.fromEntries([...vocab.keys()].map((w) => [w, pinyinOf(w).join(' ')])),
      fixer: Object.fromEntries([...new Set(fixerWords)].map((w) => [w, homophoneKey(w)])),
    };
  });
  const keyIn = (table: Record<string, string>, compute: (w: string) => string) => (w: string) => table[w] ?? compute(w);
  const homophones = new HomophoneFixer(fixerWords, new Set(kb.intents.stopwords.filter((w) => [...w].length === 1)), keyIn(start.fixer, homophoneKey));
  const retriever = new Retriever(kb, analyzer);
  const signals = new Signals(kb, analyzer);
  const reader = new MessageReader(kb, analyzer, homophones, new Map(start.vocab), keyIn(start.reader, (w) => pinyinOf(w).join(' ')));
  const linear: SoftmaxClassifier = linearFor(kb, analyzer, CueSet.strip);
  const featureTables = Object.fromEntries((['w:', 'c:', '', 'p:', 'q:', 'e:'] as const).map((p) => [p, linear.tokens(p)])) as Record<FeaturePrefix, ReadonlyMap<string, number>>;
  const norm = (list: string[]) => list.map((p) => normalize(p)).filter(Boolean);
  const aspects = ASPECTS.map((a) => ({ aspect: a, patterns: norm(kb.intents.aspects[a]) }));
  const aspectWords = aspects.flatMap((a) => a.patterns).sort((a, b) => b.length - a.length);
  const withoutAspects = (s: string) => aspectWords.reduce((t, p) => (t.includes(p) ? t.split(p).join(' ') : t), s);

  const aspectExclude = norm(kb.intents.aspectExclude);
  const aspectIn = (s: string): Aspect | null => {
    if (aspectExclude.some((x) => s.includes(x))) return null;
    let best: { aspect: Aspect; len: number } | null = null;
    for (const { aspect, patterns } of aspects)
      for (const p of patterns) if (s.includes(p) && (!best || p.length > best.len)) best = { aspect, len: p.length };
    return best?.aspect ?? null;
  };

  const channelItems = new Set([...kb.items.values()].filter((i) => i.category === 'channel').map((i) => `item:${i.id}`));
  /** "去营业厅办过户，要带什么": a channel named beside a service is where to do it; that service's aspect is what is asked. */
  const serviceFirst = (fused: Candidate[], hits: Map<TargetKey, number>, aspect: Aspect | null): Candidate[] => {
    const top = fused[0];
    if (!top || !aspect || !channelItems.has(top.key)) return fused;
    const service = fused.slice(1, 3).find((c) => !channelItems.has(c.key) && hits.has(c.key) && c.score >= top.score * SERVICE_SHARE);
    return service ? swapTop(fused, service) : fused;
  };

  /** "装修完了怎么恢复用水": a flow ranks above an item of its own that the message names only when asked for as a whole. */
  const itemBeforeFlow = (fused: Candidate[], hits: Map<TargetKey, number>, cue: boolean): Candidate[] => {
    const top = fused[0];
    if (!top || cue || !top.key.startsWith('flow:')) return fused;
    const own = retriever.flowItems(top.key.slice(5));
    const item = fused.find((c) => c.key.startsWith('item:') && own.includes(c.key.slice(5)) && hits.has(c.key) && c.score >= top.score * OWN_ITEM_SHARE);
    return item ? swapTop(fused, item) : fused;
  };

  /** Ranks a read message: lexical (asking part, story as context) and linear, fused. */
  const rankRead = (read: ReadMessage, dense?: ScoredKey[]): Ranked => {
    let askText = signals.withoutSmalltalk(primaryAsk(read, analyzer)) || read.whole;
    // An ask with nothing of ours in it ("这是什么情况，找谁来看看？") leaves the story to say what it is about.
    if (read.context && !signals.isDomain(askText) && retriever.termHits(analyzer.analyze(askText)).size === 0) askText = read.whole;
    const ask = analyzer.analyze(askText);
    const core = analyzer.analyze(withoutAspects(askText));
    const ctx = read.context && read.context !== askText ? analyzer.analyze(read.context) : null;
    const askHits = retriever.termHits(ask);
    let lexical = retriever.rank(ask, core.words.length ? core : ask, FUSE_DEPTH, askHits, ctx ? { a: ctx, weight: CONTEXT_WEIGHT } : undefined);
    if (dense) lexical = fuseDense(lexical, dense);
    // Features straight to the model's indices (the story's at CONTEXT_WEIGHT); any feature at all, known or not, asks the model.
    const ids = new Map<number, number>();
    let anyFeature = false;
    const put = (w: number) => (prefix: FeaturePrefix, token: string) => {
      anyFeature = true;
      const i = featureTables[prefix].get(token);
      if (i !== undefined) ids.set(i, (ids.get(i) ?? 0) + w);
    };
    eachFeature(ask, read.syllables, read.english, put(1));
    if (ctx) eachFeature(ctx, [], [], put(CONTEXT_WEIGHT));
    const linearRanked = anyFeature ? linear.predictIds(ids) : [];
    const hits = ctx ? retriever.termHits(analyzer.analyze(read.whole)) : askHits;
    const domain = hits.size > 0 || signals.isDomain(read.whole);
    const fused = itemBeforeFlow(
      serviceFirst(fuse(lexical, linearRanked, calibration.linearWeight), hits, aspectIn(read.asks[0] ?? read.whole) ?? aspectIn(read.whole)),
      hits,
      signals.flowCue(read.whole),
    );
    const coreEmpty = !ctx && retriever.termHits(core).size === 0 && !signals.isDomain(core.text);
    return { read, ask, coreEmpty, lexical, linear: linearRanked, fused, hits, domain, evidence: evidenceOf(lexical, linearRanked, fused, hits, domain, read) };
  };

  const classify = (text: string, t: Thresholds = thresholds, dense?: ScoredKey[]): Understanding => {
    const read = reader.read(text);
    const base = { itemId: null, flowId: null, aspect: null as Aspect | null, candidates: [] as TargetKey[], urgent: false, lang: read.lang };
    if (!read.whole) return { ...base, decision: 'fallback' };
    const sig = signals.of(read);
    base.urgent = sig.urgent;
    base.aspect = aspectIn(read.asks[0] ?? read.whole) ?? aspectIn(read.whole);
    const reason: HandoffReason | null = sig.urgent ? 'urgent' : sig.complaint ? 'complaint' : sig.asked ? 'asked' : null;
    if (!reason && sig.smalltalk) return { ...base, decision: 'smalltalk', smalltalk: sig.smalltalk };
    if (!reason && sig.scopeTopic) return { ...base, decision: 'fallback', scopeTopic: sig.scopeTopic };
    const r = rankRead(read, dense);
    const candidates = r.fused.slice(0, 5).map((c) => c.key);
    // A question that is only aspect words ("网上能办吗") names no service, so the dialogue can read it as a follow-up.
    const named = r.coreEmpty ? [] : [...r.hits.keys()];
    // A message of one or two distinct characters ("水水水…") says too little to answer, however well it matches,
    // unless it is a service's own name ("报停").
    const terse = new Set(read.whole.replace(/\s/g, '')).size <= 2 && !r.hits.has(r.fused[0]?.key ?? 'item:');
    const confidence = r.evidence ? Math.min(confidenceOf(r.evidence, calibration), terse ? calibration.clarifyAt : 1, supported(r.evidence) ? 1 : UNSUPPORTED) : 0;
    const out = { ...base, candidates, ranking: r.fused, named, confidence, ...(read.pinyin ? { pinyin: true } : {}) };
    if (reason) {
      const also = r.fused.find((c) => c.key.startsWith('item:') && c.coverage > 0);
      return { ...out, decision: 'handoff', handoffReason: reason, priority: HANDOFF_PRIORITY[reason], ...(also ? { alsoItem: also.key.slice(5) } : {}) };
    }
    if (!r.fused.length) return { ...out, decision: 'fallback' };
    // Nothing of ours at all: no water words and no word the knowledge base uses (numbers do not count).
    if (!r.domain && !r.ask.words.some((w) => !/^[0-9]+$/.test(w) && retriever.knownWords.has(w))) return { ...out, decision: 'fallback' };
    // Without a word of ours, a message the linear model places elsewhere is not ours.
    const d = decideCalibrated(r.fused, {
      confidence,
      domain: r.domain,
      flowCue: signals.flowCue(read.whole),
      multiFlow: () => signals.multiItemFlow(spanText(analyzer, read.whole), r.fused),
      situation: () => signals.situationFlow(text, analyzer.analyze(read.whole).text),
      thresholds: t,
      calibration,
      flowItems: (id) => retriever.flowItems(id),
    });
    const second = secondAsk(read, d.decision === 'answer' || d.decision === 'flow' ? d.key : null);
    const extra = second ? { secondAsk: second } : {};
    switch (d.decision) {
      case 'answer': {
        const faq = r.coreEmpty ? null : faqOf(d.key.slice(5), r.ask);
        // A question that is one of the guide's FAQs asks that, not an aspect ("水箱多久清洗一次" is not the repair time limit);
        // one of nothing but aspect words ("网上能办吗") stays an aspect, so it can follow up on the current guide.
        return { ...out, ...extra, ...(faq !== null ? { faq, aspect: null } : {}), decision: 'answer', itemId: d.key.slice(5) };
      }
      case 'flow':
        return { ...out, ...extra, decision: 'flow', flowId: d.key.slice(5) };
      case 'clarify':
        return { ...out, decision: 'clarify', options: d.keys };
      default:
        return { ...out, decision: 'fallback' };
    }
  };

  // Each item's FAQ questions as bigram sets, for matching a question to one of them.
  const faqBigrams = new Map([...kb.items.values()].map((i) => [i.id, i.faqs.map((f) => new Set(analyzer.analyze(f.q).bigrams))]));
  /** The index of the item's FAQ the asking part repeats (bigram Dice ≥ FAQ_MATCH), or null. */
  const faqOf = (itemId: string, ask: Analysis): number | null => {
    const mine = new Set(ask.bigrams);
    let best: { i: number; dice: number } | null = null;
    (faqBigrams.get(itemId) ?? []).forEach((q, i) => {
      const shared = [...q].filter((b) => mine.has(b)).length;
      const dice = (2 * shared) / (q.size + mine.size || 1);
      if (dice >= FAQ_MATCH && (!best || dice > best.dice)) best = { i, dice };
    });
    return best ? (best as { i: number }).i : null;
  };

  /** The target of a second question in the message, when it differs from the first one's. */
  const secondAsk = (read: ReadMessage, first: TargetKey | null): TargetKey | undefined => {
    if (!first || read.asks.length < 2) return undefined;
    for (const ask of read.asks.slice(1)) {
      const a = analyzer.analyze(ask);
      const top = retriever.rank(a, a, 3)[0];
      if (!top || top.coverage < 0.5 || top.key === first) continue;
      const related = (x: TargetKey, y: TargetKey) => x.startsWith('flow:') && retriever.flowItems(x.slice(5)).includes(y.slice(5));
      if (!related(first, top.key) && !related(top.key, first)) return top.key;
    }
    return undefined;
  };

  const evidenceOf = (lexical: Candidate[], lin: { label: string; p: number }[], fused: Candidate[], hits: Map<TargetKey, number>, domain: boolean, read: ReadMessage): Evidence | null => {
    const top = fused[0];
    if (!top) return null;
    const targets = lin.filter((x) => !x.label.startsWith('intent:'));
    const pOf = (k: string) => lin.find((x) => x.label === k)?.p ?? 0;
    const lexTop = lexical[0]?.score ?? 0;
    const lexOfTop = lexical.find((c) => c.key === top.key);
    const bestOther = targets.find((x) => x.label !== top.key)?.p ?? 0;
    return {
      lexTop: Math.log1p(lexOfTop?.score ?? 0),
      lexMargin: lexTop > 0 ? 1 - (lexical[1]?.score ?? 0) / lexTop : 0,
      coverage: lexOfTop?.coverage ?? 0,
      linP: pOf(top.key),
      linMargin: pOf(top.key) - bestOther,
      agree: lexical[0]?.key === targets[0]?.label ? 1 : 0,
      fusedMargin: 1 - (fused[1]?.score ?? 0) / top.score,
      domain: domain ? 1 : 0,
      named: hits.has(top.key) ? 1 : 0,
      logLen: Math.log1p(read.whole.length),
      oosP: pOf(INTENT_LABELS.outOfScope),
    };
  };

  // Each entry point is one message: what it analyses more than once is computed once (memo.ts).
  return {
    classify: (text, t, dense) => withMemo(() => classify(text, t, dense)),
    langOf: (text) => reader.langOf(text.slice(0, MAX_CHARS)),
    aspectOf: (text) => withMemo(() => aspectIn(reader.read(text).whole)),
    rank: (text) => withMemo(() => rankRead(reader.read(text)).fused),
    evidence: (text) =>
      withMemo(() => {
        const read = reader.read(text);
        if (!read.whole) return null;
        const r = rankRead(read);
        return r.evidence ? { evidence: r.evidence, top: r.fused[0]?.key ?? null } : null;
      }),
  };
}

/** The folded text, then its content words run together: a measure word or particle inside a name ("挪个位置") does not hide it. */
function spanText(analyzer: Analyzer, text: string): string {
  const a = analyzer.analyze(text);
  return `${a.text} ${analyzer.fold(a.words.join(''))}`;
}

/** The first asking part that has words of its own (not "怎么办？"), else the whole message. */
function primaryAsk(read: ReadMessage, analyzer: Analyzer): string {
  for (const a of read.asks) if (analyzer.analyze(a).words.length >= 2) return a;
  return read.whole;
}

/** The ranking with `c` and the top swapped (scores stay in place, so the order stays sorted). */
function swapTop(fused: Candidate[], c: Candidate): Candidate[] {
  const top = fused[0]!;
  return [{ ...c, score: top.score }, ...fused.slice(1).map((x) => (x === c ? { ...top, score: c.score } : x))];
}

/** Fuses the lexical and the linear rankings: each normalised by its top, mixed by `w` (the linear share). */
function fuse(lexical: Candidate[], linear: { label: string; p: number }[], w: number): Candidate[] {
  const targets = linear.filter((x) => !x.label.startsWith('intent:')).slice(0, FUSE_DEPTH);
  const lexTop = lexical[0]?.score ?? 0;
  const linTop = targets[0]?.p ?? 0;
  const out = new Map<TargetKey, Candidate>();
  for (const c of lexical) out.set(c.key, { key: c.key, coverage: c.coverage, score: lexTop > 0 ? (1 - w) * (c.score / lexTop) : 0 });
  // The linear model alone, with no lexical evidence at all, is not enough to offer a target.
  if (!lexical.length) return [];
  for (const t of targets) {
    const key = t.label as TargetKey;
    const c = out.get(key) ?? { key, coverage: 0, score: 0 };
    c.score += linTop > 0 ? w * (t.p / linTop) : 0;
    out.set(key, c);
  }
  return [...out.values()].sort((a, b) => b.score - a.score);
}

/** Words the knowledge base uses, with counts (for reading pinyin back into them). */
function vocabulary(kb: KnowledgeBase, analyzer: Analyzer): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (w: string, n = 1) => counts.set(w, (counts.get(w) ?? 0) + n);
  const texts = [
    ...[...kb.items.values()].flatMap((i) => [i.title, ...i.aliases, ...i.keywords, ...i.examples, ...i.faqs.map((f) => f.q)]),
    ...[...kb.flows.values()].flatMap((f) => [f.title, ...f.keywords, ...f.examples]),
    ...Object.values(kb.intents.aspects).flat(),
    ...kb.smalltalk.intents.flatMap((i) => i.patterns),
    ...kb.intents.handoff.patterns,
    ...[...kb.intents.urgent.patterns, ...kb.intents.complaint.patterns].map(CueSet.strip),
    ...kb.intents.outOfScope.flatMap((t) => t.words),
    ...kb.intents.asking,
  ];
  for (const t of texts) for (const w of analyzer.segment(analyzer.clean(t))) if (w.trim()) add(w.trim());
  for (const w of kb.synonyms.domainWords) add(normalize(w), 5);
  for (const w of kb.intents.stopwords) add(normalize(w), 2);
  return counts;
}
