import type { Control, KnowledgeBase } from '../knowledge/index.js';
import { normalize } from '../nlu/index.js';
import { compact } from './compact.js';

/** The kinds of control words in knowledge/intents.yaml `control:`. */
export type ControlKind = Exclude<keyof Control, 'fillers' | 'particles'>;

/** The dialogue's control words, read from knowledge/intents.yaml `control:`. */
export interface Controls {
  /** Whether the message is (exact list) or contains (contains list) a word of this kind. */
  is(kind: ControlKind, text: string): boolean;
  /** The message without its edit words ("电话填错了，是139…" → "电话 ，是139…"). */
  stripEdit(text: string): string;
  /** A question rather than an answer ("可以先不签吗"). */
  isQuestion(text: string): boolean;
  /**
   * Reads a yes or a no: a yes/no word and nothing else of substance, where words of the question itself
   * (`echo`: "不需要报停") do not count as substance. null when it is no yes/no answer.
   */
  yesNo(text: string, echo?: string): boolean | null;
}

const byLength = (list: string[]) => [...new Set(list.map(compact).filter(Boolean))].sort((a, b) => b.length - a.length);

function stripStart(s: string, words: string[]): string {
  let out = s;
  for (let changed = true; changed; ) {
    changed = false;
    for (const w of words)
      if (out.startsWith(w) && out.length > w.length) {
        out = out.slice(w.length);
        changed = true;
      }
  }
  return out;
}

function stripEnd(s: string, words: string[]): string {
  let out = s;
  for (let changed = true; changed; ) {
    changed = false;
    for (const w of words)
      if (out.endsWith(w) && out.length > w.length) {
        out = out.slice(0, -w.length);
        changed = true;
      }
  }
  return out;
}

const cache = new WeakMap<KnowledgeBase, Controls>();

/** The control words of a knowledge base (built once per knowledge base). */
export function controlsOf(kb: KnowledgeBase): Controls {
  let c = cache.get(kb);
  if (!c) cache.set(kb, (c = buildControls(kb.intents.control)));
  return c;
}

function buildControls(data: Control): Controls {
  const fillers = byLength(data.fillers);
  const particles = byLength(data.particles);
  const lists = Object.fromEntries(
    (Object.keys(data) as (keyof Control)[])
      .filter((k): k is ControlKind => k !== 'fillers' && k !== 'particles')
      .map((k) => [k, { exact: new Set(byLength(data[k].exact)), contains: byLength(data[k].contains), starts: byLength(data[k].exact) }]),
  ) as Record<ControlKind, { exact: Set<string>; contains: string[]; starts: string[] }>;
  // Punctuation is dropped by normalize, so the question mark is looked for in the raw text.
  const questionMarks = data.question.contains.filter((w) => /^[?？]$/.test(w)).concat(data.question.contains.includes('?') ? ['？'] : []);
  const core = (s: string) => stripEnd(stripStart(s, fillers), particles);

  const is = (kind: ControlKind, text: string): boolean => {
    if (kind === 'question') return isQuestion(text);
    const s = compact(text);
    if (!s) return false;
    const l = lists[kind];
    return l.exact.has(s) || l.exact.has(core(s)) || l.contains.some((w) => s.includes(w));
  };

  const isQuestion = (text: string): boolean => questionMarks.some((m) => text.includes(m)) || lists.question.contains.some((w) => compact(text).includes(w));

  const yesNo = (text: string, echo = ''): boolean | null => {
    if (isQuestion(text)) return null;
    const s = core(compact(text));
    if (!s) return null;
    if (lists.no.exact.has(s)) return false;
    if (lists.yes.exact.has(s)) return true;
    const echoChars = new Set(compact(echo));
    const longest = [...lists.yes.starts.map((w) => [w, true] as const), ...lists.no.starts.map((w) => [w, false] as const)].sort((a, b) => b[0].length - a[0].length);
    for (const [w, value] of longest) {
      if (!s.startsWith(w)) continue;
      const rest = stripEnd(stripStart(s.slice(w.length), particles), particles);
      if (!rest || particles.includes(rest) || [...rest].every((ch) => echoChars.has(ch))) return value;
      return null;
    }
    return null;
  };

  return {
    is,
    isQuestion,
    yesNo,
    stripEdit: (text) => lists.edit.contains.reduce((t, w) => t.split(w).join(' '), normalize(text)),
  };
}
