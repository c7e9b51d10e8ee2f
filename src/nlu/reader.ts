import type { KnowledgeBase } from '../knowledge/index.js';
import type { Analyzer } from './analyzer.js';
import { splitClauses } from './clauses.js';
import { EnglishReader, englishWords } from './english.js';
import type { HomophoneFixer } from './homophones.js';
import { PinyinReader, syllables } from './pinyin-input.js';

/** A message read into the knowledge base's own language. */
export interface ReadMessage {
  lang: 'zh' | 'en';
  /** The whole message, prepared (normalised, typos fixed, pinyin and English turned into Chinese words). */
  whole: string;
  /** The prepared asking parts, in order. */
  asks: string[];
  /** The prepared story around them. */
  context: string;
  /** Pinyin syllables typed in latin letters (for the linear classifier's pinyin features). */
  syllables: string[];
  /** English content words (for the linear classifier). */
  english: string[];
  /** Whether pinyin typed without an IME was read. */
  pinyin: boolean;
}

/** Longest input the understanding reads; the rest of a huge message is ignored. */
export const MAX_CHARS = 600;
const HAN = /\p{Script=Han}/gu;

/** Reads raw messages: language, pinyin, English, sentences and the asking part. */
export class MessageReader {
  readonly english: EnglishReader;
  private readonly pinyin: PinyinReader;
  private readonly asking: string[];

  /** `pinyinKey`: a word's pinyin key for the pinyin reader (a cached table at start-up). */
  constructor(kb: KnowledgeBase, private readonly analyzer: Analyzer, private readonly homophones: HomophoneFixer, words: Map<string, number>, pinyinKey?: (w: string) => string) {
    const enFields = [...kb.items.values(), ...kb.flows.values()].flatMap((x) => {
      const e = x as { titleEn?: string; aliasesEn?: string[] };
      return [e.titleEn ?? '', ...(e.aliasesEn ?? [])];
    });
    this.english = new EnglishReader(kb.intents.english.lexicon, kb.intents.english.stopwords, enFields);
    this.pinyin = new PinyinReader(words, pinyinKey);
    this.asking = kb.intents.asking;
  }

  /** Normalises and fixes typos; spaces between Chinese characters ("你 好") are dropped. */
  prepare(text: string): string {
    const clean = this.analyzer.clean(text).replace(/(\p{Script=Han}) (?=\p{Script=Han})/gu, '$1');
    return this.homophones.fix(clean, this.analyzer.segment(clean));
  }

  /** The message's language: English when its latin words are mostly English and it has next to no Chinese. */
  langOf(raw: string): 'zh' | 'en' {
    const han = raw.match(HAN)?.length ?? 0;
    // Tone marks (ǎ, í…) are pinyin, never English.
    if (/[\u0101\u00e1\u01ce\u00e0\u0113\u00e9\u011b\u00e8\u012b\u00ed\u01d0\u00ec\u014d\u00f3\u01d2\u00f2\u016b\u00fa\u01d4\u00f9\u01d6\u01d8\u01da\u01dc]/i.test(raw)) return 'zh';
    const words = englishWords(raw.normalize('NFKC'));
    if (!words.length || han >= 3) return 'zh';
    const known = words.filter((w) => this.english.isWord(w)).length;
    const pinyin = words.filter((w) => !this.english.isWord(w) && syllables(w)).length;
    return known > 0 && known >= pinyin ? 'en' : 'zh';
  }

  /** Reads one message. */
  read(rawText: string): ReadMessage {
    const raw = rawText.slice(0, MAX_CHARS);
    const lang = this.langOf(raw);
    const syl: string[] = [];
    let pinyin = false;
    const convert = (part: string): string => {
      let s = this.analyzer.clean(part);
      if (lang === 'en') return this.prepare(this.english.translate(s));
      if (/[a-z]/.test(s)) {
        const r = this.pinyin.read(s, (w) => this.english.isWord(w) && !syllables(w));
        if (r.converted) {
          syl.push(...r.syllables);
          pinyin = true;
          s = r.text;
        }
      }
      return this.prepare(s);
    };
    const clauses = splitClauses(raw, this.asking);
    const done = new Map<string, string>();
    const once = (part: string) => done.get(part) ?? done.set(part, convert(part)).get(part)!;
    const asks = clauses.asks.map(once).filter(Boolean);
    const context = clauses.context.map(once).filter(Boolean).join(' ');
    const whole = clauses.sentences.length ? clauses.sentences.map(once).filter(Boolean).join(' ') : once(raw);
    const english = lang === 'en' ? this.english.contentWords(raw) : [];
    return { lang, whole, asks: asks.length ? asks : whole ? [whole] : [], context, syllables: syl, english, pinyin };
  }
}
