import Fuse from 'fuse.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Analysis, Analyzer } from './analyzer.js';
import { Bm25Index } from './bm25.js';
import { memoized } from './memo.js';

/** A target the user may mean: `item:<id>` or `flow:<id>`. */
export type TargetKey = `item:${string}` | `flow:${string}`;

/** A ranked candidate with its evidence. */
export interface Candidate {
  key: TargetKey;
  score: number;
  /** IDF-weighted share of the query's content words that this target knows (0..1). */
  coverage: number;
}

interface Doc {
  key: TargetKey;
  tokens: string[];
}

const BIGRAM_WEIGHT = 0.35;
const ASPECT_WEIGHT = 0.3;
/** Fuse.js threshold for fuzzy title matches. */
const FUZZY_THRESHOLD = 0.34;
const TERM_BONUS = Number(process.env.NLU_TERM_BONUS ?? 10);

/** Lexical retrieval over items and flows: BM25 on words and bigrams, per target and per example, plus fuzzy titles. */
export class Retriever {
  private readonly profile = new Bm25Index(1.2, 0.5);
  private readonly examples = new Bm25Index(1.2, 0.75);
  private readonly profileKeys: TargetKey[] = [];
  private readonly exampleKeys: TargetKey[] = [];
  private readonly vocab = new Map<TargetKey, Set<string>>();
  private readonly names: { key: TargetKey; name: string }[] = [];
  /** For each character, the names holding it and how often (the fuzzy matcher's pre-filter). */
  private readonly nameChars = new Map<string, { n: number; k: number }[]>();
  /** Folded aliases and keywords per target: naming one is strong evidence. */
  private readonly terms = new Map<TargetKey, string[]>();
  /** The targets in `terms` order, and their terms by first character (for termHits). */
  private readonly termKeys: TargetKey[] = [];
  private readonly termsByFirst = new Map<string, { k: number; term: string }[]>();
  /** Words known anywhere in the knowledge base. */
  readonly knownWords = new Set<string>();

  constructor(private readonly kb: KnowledgeBase, private readonly analyzer: Analyzer) {
    const names: { key: TargetKey; name: string }[] = [];
    for (const item of kb.items.values()) {
      const key: TargetKey = `item:${item.id}`;
      const strong = [item.title, ...item.aliases];
      this.addTarget(key, strong, item.keywords, item.examples, [item.answer, ...item.faqs.map((f) => f.q)]);
      this.addTerms(key, [...item.aliases, ...item.keywords]);
      strong.forEach((name) => names.push({ key, name: this.analyzer.clean(name) }));
    }
    for (const flow of kb.flows.values()) {
      const key: TargetKey = `flow:${flow.id}`;
      this.addTarget(key, [flow.title], flow.keywords, flow.examples, []);
      this.addTerms(key, flow.keywords);
      names.push({ key, name: this.analyzer.clean(flow.title) });
    }
    this.profile.finish();
    this.examples.finish();
    this.names = names;
    names.forEach((name, n) => {
      for (const [c, k] of charCounts(name.name)) {
        let list = this.nameChars.get(c);
        if (!list) this.nameChars.set(c, (list = []));
        list.push({ n, k });
      }
    });
  }

  /**
   * Fuzzy title and alias matches (Fuse.js). Fuse accepts a name with at most FUZZY_THRESHOLD × length errors, so a
   * name holding fewer of the text's characters cannot match: only the rest are searched (same results, a fraction of the time).
   */
  private fuzzy(text: string): { key: TargetKey; score: number }[] {
    const chars = [...text];
    const need = chars.length - Math.floor(FUZZY_THRESHOLD * chars.length) - 1;
    // Characters shared with each name, counted with repeats: Σ min(count in text, count in name).
    const shared = new Int32Array(this.names.length);
    for (const [c, k] of charCounts(text)) for (const x of this.nameChars.get(c) ?? []) shared[x.n] += Math.min(k, x.k);
    const pool = this.names.filter((_, n) => shared[n]! >= need);
    if (!pool.length) return [];
    const fuse = new Fuse(pool, { keys: ['name'], includeScore: true, threshold: FUZZY_THRESHOLD, ignoreLocation: true });
    return fuse.search(text, { limit: 5 }).map((r) => ({ key: r.item.key, score: r.score ?? 1 }));
  }

  private addTarget(key: TargetKey, strong: string[], keywords: string[], examples: string[], weak: string[]): void {
    const feats = (t: string) => this.features(this.analyzer.analyze(t));
    const profileTokens = [
      ...strong.flatMap((s) => [...feats(s), ...feats(s), ...feats(s)]),
      ...keywords.flatMap((s) => [...feats(s), ...feats(s)]),
      ...examples.flatMap(feats),
      ...weak.flatMap((s) => this.analyzer.analyze(s).words),
    ];
    this.profile.add(profileTokens);
    this.profileKeys.push(key);
    const vocab = new Set(profileTokens.filter((t) => !t.startsWith('#')));
    this.vocab.set(key, vocab);
    vocab.forEach((w) => this.knownWords.add(w));
    for (const ex of [...strong, ...keywords, ...examples]) {
      this.examples.add(feats(ex));
      this.exampleKeys.push(key);
    }
  }

  private addTerms(key: TargetKey, terms: string[]): void {
    const folded = terms.map((t) => this.analyzer.analyze(t).text.replace(/ /g, '')).filter((t) => [...t].length >= 2);
    const distinct = [...new Set(folded)];
    this.terms.set(key, distinct);
    const k = this.termKeys.push(key) - 1;
    for (const term of distinct) {
      const first = [...term][0]!;
      let list = this.termsByFirst.get(first);
      if (!list) this.termsByFirst.set(first, (list = []));
      list.push({ k, term });
    }
  }

  private features(a: Analysis): string[] {
    return [...a.words, ...a.bigrams];
  }

  /** Builds a weighted query: words count fully, bigrams less, and features only in `a` but not in `core` (aspect words) least. */
  private query(a: Analysis, core: Analysis): Map<string, number> {
    const q = new Map<string, number>();
    const coreSet = new Set([...core.words, ...core.bigrams]);
    const put = (f: string, w: number) => q.set(f, Math.max(q.get(f) ?? 0, coreSet.has(f) ? w : w * ASPECT_WEIGHT));
    for (const w of a.words) put(w, 1);
    for (const b of a.bigrams) put(b, BIGRAM_WEIGHT);
    return q;
  }

  /**
   * Ranks targets for an analysed message, best first; `core` is the message without its aspect words.
   * `context` (the story around the asking part) adds its features and named terms at a reduced weight.
   */
  rank(a: Analysis, core: Analysis = a, limit = 8, hits: Map<TargetKey, number> = this.termHits(a), context?: { a: Analysis; weight: number }): Candidate[] {
    const q = this.query(a, core);
    if (context) {
      for (const [f, w] of this.query(context.a, context.a)) if (!q.has(f)) q.set(f, w * context.weight);
      const extra = this.termHits(context.a);
      hits = new Map(hits);
      for (const [key, n] of extra) if (!hits.has(key)) hits.set(key, n * context.weight);
    }
    const totals = new Map<TargetKey, number>();
    const add = (key: TargetKey, s: number) => totals.set(key, (totals.get(key) ?? 0) + s);
    this.profile.score(q, (doc, s) => add(this.profileKeys[doc]!, s));
    const bestExample = new Map<TargetKey, number>();
    this.examples.score(q, (doc, s) => {
      const key = this.exampleKeys[doc]!;
      if (s > (bestExample.get(key) ?? 0)) bestExample.set(key, s);
    });
    for (const [key, s] of bestExample) add(key, s);
    for (const [key, n] of hits) add(key, TERM_BONUS * Math.min(n, 2));
    if (a.text.length <= 16) {
      for (const r of this.fuzzy(a.text)) add(r.key, 4 * (1 - r.score));
    }
    const content = [...new Set(a.words)];
    // Words the knowledge base never uses weigh like an average word, not like the rarest one.
    const weight = (w: string) => (this.profile.has(w) ? this.profile.idf(w) : this.profile.meanIdf());
    const idfSum = content.reduce((s, w) => s + weight(w), 0);
    // Coverage only for the candidates kept (it does not change the order).
    return [...totals.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, limit)
      .map(([key, score]) => {
        const vocab = this.vocab.get(key)!;
        const hit = content.filter((w) => vocab.has(w)).reduce((s, w) => s + weight(w), 0);
        return { key, score, coverage: idfSum ? hit / idfSum : 0 };
      });
  }

  /** How many of each target's aliases and keywords the analysed text names (targets naming none are left out). */
  termHits(a: Analysis): Map<TargetKey, number> {
    return this.hitsIn(a.text);
  }

  // Callers read the map and copy it before changing it: one map per text and message is shared.
  private readonly hitsIn = memoized((text: string): Map<TargetKey, number> => {
    const compact = text.replace(/ /g, '');
    const counts = new Int32Array(this.termKeys.length);
    // Only terms starting with a character of the text can be in it.
    for (const c of new Set(compact)) for (const { k, term } of this.termsByFirst.get(c) ?? []) if (containsTerm(compact, term)) counts[k]++;
    const hits = new Map<TargetKey, number>();
    counts.forEach((n, k) => n && hits.set(this.termKeys[k]!, n));
    return hits;
  });

  /** Targets whose alias or keyword appears in the analysed text. */
  named(a: Analysis): TargetKey[] {
    return [...this.termHits(a).keys()];
  }

  /** The item ids a flow links. */
  flowItems(flowId: string): string[] {
    return this.kb.flows.get(flowId)?.items ?? [];
  }
}

/** Whether `text` names `term`; a term that starts or ends with a digit must not be part of a longer number. */
function containsTerm(text: string, term: string): boolean {
  // Most terms are absent: the cheap test goes first.
  if (!text.includes(term)) return false;
  if (!/^[0-9]|[0-9]$/.test(term)) return true;
  for (let i = text.indexOf(term); i >= 0; i = text.indexOf(term, i + 1)) {
    const before = text[i - 1] ?? '';
    const after = text[i + term.length] ?? '';
    if (!(/^[0-9]/.test(term) && /[0-9]/.test(before)) && !(/[0-9]$/.test(term) && /[0-9]/.test(after)) && !insideCode(text, i, term.length)) return true;
  }
  return false;
}

/** A latin-and-digit code with two or more digit runs (an ID such as a 统一社会信用代码, not a quantity like "dn25"). */
const CODE = /[0-9a-z]*[0-9]+[a-z]+[0-9]+[0-9a-z]*/g;

/** Whether text[i, i+n) is a strict part of such a code: the "12345" inside "91420100ma4k12345k" names nothing. */
function insideCode(text: string, i: number, n: number): boolean {
  for (const m of text.matchAll(CODE)) if (m.index <= i && i + n <= m.index + m[0].length && m[0].length > n) return true;
  return false;
}

/** How often each character occurs in a string. */
function charCounts(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of s) m.set(c, (m.get(c) ?? 0) + 1);
  return m;
}
