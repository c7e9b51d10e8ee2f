import { Jieba } from '@node-rs/jieba';
import type { Synonyms } from '../knowledge/index.js';
import { fullDictionary } from './dictionary.js';
import { memoized } from './memo.js';
import { normalize } from './normalize.js';

/** What the analyzer makes of a text. */
export interface Analysis {
  /** Normalised text with typos fixed and synonyms folded to their canonical word. */
  text: string;
  /** Content words (no stop words), canonical. */
  words: string[];
  /** Character bigrams of `text`, prefixed with '#'. */
  bigrams: string[];
}

/** Turns text into matching features: normalise, fix typos, segment, fold synonyms, bigrams. */
export class Analyzer {
  private readonly jieba: Jieba;
  private readonly canonical = new Map<string, string>();
  private readonly phrases: RegExp | null;
  private readonly typos: [string, string][];
  private readonly stop: Set<string>;
  /** Normalises and fixes typos only (no synonym folding). */
  readonly clean: (raw: string) => string = memoized((raw) => this.cleanText(raw));
  /** Segments text into dictionary words (no folding, no stop-word removal). */
  readonly segment: (text: string) => string[] = memoized((text) => this.jieba.cut(text, false));
  /** Full analysis of a text. */
  readonly analyze: (raw: string) => Analysis = memoized((raw) => this.analyzeText(raw));

  /** `dictionary`: jieba's dictionary lines (default the full one; the classifier passes one trimmed to the knowledge, dictionary.ts). */
  constructor(synonyms: Synonyms, stopwords: string[], extraWords: string[] = [], dictionary: Uint8Array = fullDictionary()) {
    this.jieba = Jieba.withDict(dictionary);
    const words = new Set([...synonyms.domainWords, ...synonyms.groups.flat(), ...extraWords].map((w) => normalize(w)).filter((w) => w.length > 1 && !/\s/.test(w)));
    this.jieba.loadDict(Buffer.from([...words].map((w) => `${w} 50000 n`).join('\n')));
    for (const group of synonyms.groups) {
      const [head, ...rest] = group.map((w) => normalize(w));
      for (const w of rest) this.canonical.set(w!, head!);
    }
    // Multi-character synonyms are replaced in the text first, longest first, so segmentation sees the canonical word.
    // One pass over variants and heads alike, so a head that contains a variant ("湖北政务服务网" ⊃ "政务服务网") stays as it is.
    const phrases = [...new Set([...this.canonical.entries()].filter(([w]) => w.length >= 3).flatMap(([w, head]) => [w, head]))];
    phrases.sort((a, b) => b.length - a.length);
    this.phrases = phrases.length ? new RegExp(phrases.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
    this.typos = Object.entries(synonyms.typos).map(([k, v]) => [normalize(k), normalize(v)] as [string, string]).sort((a, b) => b[0].length - a[0].length);
    this.stop = new Set(stopwords.map((w) => normalize(w)));
  }

  private cleanText(raw: string): string {
    let s = normalize(raw);
    for (const [wrong, right] of this.typos) if (s.includes(wrong)) s = s.split(wrong).join(right);
    return s;
  }

  /** The analysis' `text` alone (normalised, typos fixed, multi-character synonyms folded), without segmenting. */
  readonly fold: (raw: string) => string = memoized((raw) => {
    const text = this.clean(raw);
    return this.phrases ? text.replace(this.phrases, (w) => this.canonical.get(w) ?? w) : text;
  });

  private analyzeText(raw: string): Analysis {
    const text = this.fold(raw);
    const words: string[] = [];
    // A run of digits is one number: the segmenter's pieces of it ("12345" inside an ID number) are not words.
    // Nor are the digit runs of a code that interleaves letters and digits (a 统一社会信用代码 "91420100ma4k12345k"):
    // "dn25" keeps its number, an ID keeps none.
    const numbers = new Set(/[0-9]/.test(text) ? (text.replace(CODE, ' ').match(/[0-9]+/g) ?? []) : []);
    const seenNumbers = new Set<string>();
    for (const token of this.jieba.cutForSearch(text, false)) {
      const t = token.trim();
      if (!t || this.stop.has(t)) continue;
      if (/^[0-9]+$/.test(t)) {
        if (!numbers.has(t)) continue;
        seenNumbers.add(t);
      }
      words.push(this.canonical.get(t) ?? t);
    }
    for (const n of numbers) if (!seenNumbers.has(n) && !this.stop.has(n)) words.push(n);
    return { text, words, bigrams: bigramsOf(text) };
  }
}

/** A latin-and-digit code with two or more digit runs (an ID, not a quantity like "dn25"). */
const CODE = /[0-9a-z]*[0-9]+[a-z]+[0-9]+[0-9a-z]*/g;

/** Character bigrams within each run of non-space text, prefixed '#'. */
export function bigramsOf(text: string): string[] {
  const out: string[] = [];
  for (const run of text.split(' ')) {
    // Code points, not UTF-16 units: a character outside the BMP is one character.
    const chars = /[\ud800-\udfff]/.test(run) ? Array.from(run) : run;
    if (chars.length === 1) out.push('#' + chars[0]);
    for (let i = 0; i + 1 < chars.length; i++) out.push('#' + chars[i] + chars[i + 1]);
  }
  return out;
}
