import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Analysis, Analyzer } from './analyzer.js';
import { englishWords } from './english.js';
import { SoftmaxClassifier, type LabelledText } from './linear.js';
import { pinyinOf } from './pinyin-input.js';

/** Labels of the intents the linear classifier learns beside the items and flows. */
export const INTENT_LABELS = { handoff: 'intent:handoff', urgent: 'intent:urgent', complaint: 'intent:complaint', smalltalk: 'intent:smalltalk', outOfScope: 'intent:out-of-scope' } as const;

/** English fields the content may carry on an item or flow (absent until added). */
interface EnglishFields {
  titleEn?: string;
  aliasesEn?: string[];
  summaryEn?: string;
}

const HAN = /\p{Script=Han}/u;

/** The kinds of feature, by prefix: words, Han characters, bigrams (already '#'-prefixed), pinyin syllables and pairs, English words. */
export type FeaturePrefix = 'w:' | 'c:' | '' | 'p:' | 'q:' | 'e:';

/** Visits the features of an analysed text in order (a feature is `prefix + token`): see textFeatures. */
export function eachFeature(a: Analysis, extraSyllables: string[], english: string[], visit: (prefix: FeaturePrefix, token: string) => void): void {
  for (const w of a.words) visit('w:', w);
  for (const c of a.text) if (HAN.test(c)) visit('c:', c);
  for (const b of a.bigrams) visit('', b);
  const py = [...pinyinOf(a.text), ...extraSyllables];
  for (let i = 0; i < py.length; i++) {
    visit('p:', py[i]!);
    if (i + 1 < py.length) visit('q:', py[i]! + py[i + 1]!);
  }
  for (const w of english) visit('e:', w);
}

/** The features of an analysed text: words, Han characters and bigrams, pinyin syllables and pairs, English words. */
export function textFeatures(a: Analysis, extraSyllables: string[] = [], english: string[] = []): string[] {
  const out: string[] = [];
  eachFeature(a, extraSyllables, english, (prefix, token) => out.push(prefix + token));
  return out;
}

/** Every phrase the knowledge base gives for each target and intent, labelled. */
export function trainingTexts(kb: KnowledgeBase, stripCue: (p: string) => string): { text: string; label: string; en?: boolean }[] {
  const out: { text: string; label: string; en?: boolean }[] = [];
  const push = (label: string, texts: (string | undefined)[], en = false) => {
    for (const t of texts) if (t?.trim()) out.push({ text: t, label, en });
  };
  for (const item of kb.items.values()) {
    const label = `item:${item.id}`;
    const en = item as typeof item & EnglishFields;
    push(label, [item.title, ...item.aliases, ...item.keywords, ...item.examples, ...item.faqs.map((f) => f.q)]);
    push(label, [en.titleEn, ...(en.aliasesEn ?? []), en.summaryEn?.split(/(?<=\.)\s/)[0]], true);
  }
  for (const flow of kb.flows.values()) {
    const label = `flow:${flow.id}`;
    const en = flow as typeof flow & EnglishFields;
    push(label, [flow.title, ...flow.keywords, ...flow.examples]);
    push(label, [en.titleEn, ...(en.aliasesEn ?? [])], true);
  }
  const i = kb.intents;
  push(INTENT_LABELS.handoff, [...i.handoff.patterns, ...i.handoff.exact]);
  push(INTENT_LABELS.urgent, i.urgent.patterns.map(stripCue));
  push(INTENT_LABELS.complaint, [...i.complaint.patterns, ...i.complaint.strong].map(stripCue));
  push(INTENT_LABELS.smalltalk, kb.smalltalk.intents.flatMap((s) => s.patterns));
  push(INTENT_LABELS.outOfScope, i.outOfScope.flatMap((s) => s.words));
  return out;
}

/** Bump when the features or the training change: cached models of older versions are ignored. */
const MODEL_VERSION = 'v1';

/**
 * The linear classifier for a knowledge base: read from the on-disk cache keyed by the knowledge hash,
 * or trained (a few hundred milliseconds) and cached. NLU_CACHE_DIR sets the folder; "off" disables the cache.
 */
export function linearFor(kb: KnowledgeBase, analyzer: Analyzer, stripCue: (p: string) => string): SoftmaxClassifier {
  const dir = process.env.NLU_CACHE_DIR ?? join(tmpdir(), 'wsa-nlu-cache');
  const key = createHash('sha256').update(`${MODEL_VERSION}:${kb.hash}:${JSON.stringify(kb.intents)}`).digest('hex').slice(0, 20);
  const file = join(dir, `linear-${key}.bin`);
  if (dir !== 'off') {
    try {
      const cached = SoftmaxClassifier.fromBuffer(readFileSync(file));
      if (cached) return cached;
    } catch {
      // not cached yet
    }
  }
  const model = trainLinear(kb, analyzer, stripCue);
  if (dir !== 'off') {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, model.toBuffer());
      renameSync(tmp, file);
    } catch {
      // a read-only disk only costs the next start the training time
    }
  }
  return model;
}

/** Trains the linear classifier on the knowledge base (a few hundred milliseconds). */
export function trainLinear(kb: KnowledgeBase, analyzer: Analyzer, stripCue: (p: string) => string): SoftmaxClassifier {
  const data: LabelledText[] = trainingTexts(kb, stripCue).map((t) => {
    const a = analyzer.analyze(t.text);
    return { label: t.label, features: textFeatures(a, [], t.en ? englishWords(t.text) : []) };
  });
  return SoftmaxClassifier.train(data);
}
