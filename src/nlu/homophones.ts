import { tonelessPinyin } from './pinyin-input.js';

const HAN = /\p{Script=Han}/u;

/** The toneless pinyin key a homophone is looked up by: "过户" → "guo hu". */
export function homophoneKey(w: string): string {
  return tonelessPinyin(w).join(' ');
}

/**
 * Fixes homophone typos ("过护" → "过户") by matching the pinyin of windows of the text
 * against domain words; windows that are already part of a known word are left alone.
 */
export class HomophoneFixer {
  private readonly byPinyin = new Map<string, string>();
  private readonly known: string[];

  /** `functionChars`: one-character function words ("好", "的"); a window is never fixed by changing one of them ("水好浑" is not 税号). */
  /** `keyOf`: a word's toneless pinyin key (default homophoneKey; a cached table at start-up). */
  constructor(domainWords: Iterable<string>, private readonly functionChars: ReadonlySet<string> = new Set(), keyOf: (w: string) => string = homophoneKey) {
    const words = [...new Set(domainWords)].filter((w) => w.length >= 2 && w.length <= 4 && [...w].every((c) => HAN.test(c)));
    this.known = words;
    const clash = new Set<string>();
    for (const w of words) {
      const key = keyOf(w);
      const prev = this.byPinyin.get(key);
      if (prev && prev !== w) clash.add(key);
      this.byPinyin.set(key, w);
    }
    // Two domain words that sound alike cannot be told apart by sound: leave them out.
    for (const k of clash) this.byPinyin.delete(k);
  }

  /** Returns the text with homophone typos of domain words replaced; `words` are the text's real words, never changed. */
  fix(text: string, words: string[] = []): string {
    const real = words.filter((w) => w.length >= 2);
    const chars = [...text];
    if (!chars.some((c) => HAN.test(c))) return text;
    const spans = spansOf(chars, real.length ? words : []);
    // Only a window outside every real word is ever fixed: without two such characters side by side, starting with
    // a Chinese one, nothing can change, and the pinyin (most of the cost) is not needed.
    if (spans && !hasFreePair(chars, spans)) return text;
    const py = tonelessPinyin(text);
    if (py.length !== chars.length) return text;
    const out = [...chars];
    for (let len = 4; len >= 2; len--) {
      for (let i = 0; i + len <= chars.length; i++) {
        if (!HAN.test(out[i]!)) continue;
        // The pinyin lookup is cheap and rarely hits, so it goes before the window is even built.
        const word = this.byPinyin.get(keyAt(py, i, len));
        if (!word) continue;
        const window = out.slice(i, i + len).join('');
        if (word === window || this.changesFunctionChar(window, word) || this.isKnown(window, out.join(''))) continue;
        // A window that holds, or cuts into, a real word ("居民家" ⊃ 居民; "哪些|业务" is not 歇业) was typed on purpose, not misheard.
        if (spans ? spans.some(([a, b]) => a < i + len && b > i) : real.some((w) => w.includes(window) || (w.length < window.length && window.includes(w)))) continue;
        out.splice(i, len, ...word);
      }
    }
    return out.join('');
  }

  private changesFunctionChar(window: string, word: string): boolean {
    const w = [...word];
    return [...window].some((c, i) => c !== w[i] && this.functionChars.has(c));
  }

  private isKnown(window: string, text: string): boolean {
    return this.known.some((w) => w.includes(window) && text.includes(w));
  }
}

/** Whether two neighbouring characters, the first Chinese, lie outside every span. */
function hasFreePair(chars: string[], spans: [number, number][]): boolean {
  const covered = new Uint8Array(chars.length);
  for (const [a, b] of spans) covered.fill(1, a, b);
  for (let i = 0; i + 1 < chars.length; i++) if (!covered[i] && !covered[i + 1] && HAN.test(chars[i]!)) return true;
  return false;
}

/** The toneless pinyin key of the window py[i, i+len): its syllables joined by spaces. */
function keyAt(py: string[], i: number, len: number): string {
  let k = py[i]!;
  for (let j = i + 1; j < i + len; j++) k += ' ' + py[j]!;
  return k;
}

/** Character spans [start, end) of the real words (two characters or more), or null when the words do not spell the text. */
function spansOf(chars: string[], words: string[]): [number, number][] | null {
  if (!words.length || words.join('') !== chars.join('')) return null;
  const spans: [number, number][] = [];
  let at = 0;
  for (const w of words) {
    const n = [...w].length;
    if (n >= 2) spans.push([at, at + n]);
    at += n;
  }
  return spans;
}
