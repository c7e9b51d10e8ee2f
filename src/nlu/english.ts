/** Reads English messages: detects them and maps English phrases to the knowledge base's Chinese words. */
export class EnglishReader {
  private readonly phrases: { re: RegExp; zh: string }[];
  private readonly vocab: Set<string>;
  private readonly stop: Set<string>;

  /** `lexicon`: English phrase → Chinese words; `extraWords`: English words the knowledge base uses (titles, aliases). */
  constructor(lexicon: Record<string, string>, stopwords: string[], extraWords: string[] = []) {
    const entries = Object.entries(lexicon).map(([en, zh]) => [en.toLowerCase().trim(), zh] as const);
    entries.sort((a, b) => b[0].length - a[0].length);
    this.phrases = entries.map(([en, zh]) => ({ re: new RegExp(`(?<![a-z])${en.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+')}(?![a-z])`, 'g'), zh }));
    this.stop = new Set(stopwords.map((w) => w.toLowerCase()));
    this.vocab = new Set([...entries.flatMap(([en]) => en.split(/[\s-]+/)), ...this.stop, ...extraWords.flatMap((w) => englishWords(w))]);
  }

  /** Whether a lower-case latin token is an English word this reader knows. */
  isWord(token: string): boolean {
    return this.vocab.has(token);
  }

  /** Latin tokens of a text that are English words (known or not pinyin), without stop words. */
  contentWords(text: string): string[] {
    return englishWords(text).filter((w) => !this.stop.has(w));
  }

  /** How many of the text's latin tokens are known English words. */
  knownCount(text: string): number {
    return englishWords(text).filter((w) => this.vocab.has(w)).length;
  }

  /** The text with known English phrases replaced by their Chinese words. */
  translate(text: string): string {
    let s = text.toLowerCase();
    for (const { re, zh } of this.phrases) s = s.replace(re, ` ${zh} `);
    return s.replace(/\s+/g, ' ').trim();
  }
}

/** Lower-case latin words of a text. */
export function englishWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+(?:['-][a-z]+)*/g) ?? [];
}
