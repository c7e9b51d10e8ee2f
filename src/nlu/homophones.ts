import { pinyin } from 'pinyin-pro';

const HAN = /\p{Script=Han}/u;

/**
 * Fixes homophone typos ("过护" → "过户") by matching the pinyin of windows of the text
 * against domain words; windows that are already part of a known word are left alone.
 */
export class HomophoneFixer {
  private readonly byPinyin = new Map<string, string>();
  private readonly known: string[];

  constructor(domainWords: Iterable<string>) {
    const words = [...new Set(domainWords)].filter((w) => w.length >= 2 && w.length <= 4 && [...w].every((c) => HAN.test(c)));
    this.known = words;
    const clash = new Set<string>();
    for (const w of words) {
      const key = pinyin(w, { toneType: 'none', type: 'array' }).join(' ');
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
    const py = pinyin(text, { toneType: 'none', type: 'array' });
    if (py.length !== chars.length) return text;
    let out = text;
    for (let len = 4; len >= 2; len--) {
      for (let i = 0; i + len <= chars.length; i++) {
        const window = chars.slice(i, i + len).join('');
        if (!HAN.test(window[0]!)) continue;
        // The pinyin lookup is cheap and rarely hits, so it goes before the scans of known and real words.
        const word = this.byPinyin.get(py.slice(i, i + len).join(' '));
        // A window that holds a real word of its own ("居民家" ⊃ 居民) was typed on purpose, not misheard.
        if (!word || word === window || this.isKnown(window, out) || real.some((w) => w.includes(window) || (w.length < window.length && window.includes(w)))) continue;
        out = out.replace(window, word);
      }
    }
    return out;
  }

  private isKnown(window: string, text: string): boolean {
    return this.known.some((w) => w.includes(window) && text.includes(w));
  }
}
