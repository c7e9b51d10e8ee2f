import { normalize } from './normalize.js';

/** A compiled list of cue patterns: `a+b` needs both parts anywhere, `a|b` either, `#` stands for a number. */
export class CueSet {
  private readonly cues: { source: string; parts: (string | RegExp)[] }[];

  constructor(patterns: string[]) {
    this.cues = patterns
      .map((p) => ({ source: p, parts: p.split('+').map(compilePart).filter((x): x is string | RegExp => x !== null) }))
      .filter((c) => c.parts.length > 0);
  }

  /** The first pattern the normalised text matches, or null. */
  find(text: string): string | null {
    for (const c of this.cues) if (c.parts.every((p) => (typeof p === 'string' ? text.includes(p) : p.test(text)))) return c.source;
    return null;
  }

  /** Every pattern the normalised text matches. */
  all(text: string): string[] {
    return this.cues.filter((c) => c.parts.every((p) => (typeof p === 'string' ? text.includes(p) : p.test(text)))).map((c) => c.source);
  }

  /** A pattern as plain words, for training ("老人+没水" → "老人 没水", "#天没水" → "天没水"). */
  static strip(pattern: string): string {
    return pattern.replace(/[+|]/g, ' ').replace(/#/g, '');
  }

  /** The literal words of every pattern (for training and vocabularies). */
  words(): string[] {
    return this.cues.flatMap((c) => c.parts.map((p) => (typeof p === 'string' ? p : p.source.replace(/\[0-9\]\+/g, ''))).filter(Boolean));
  }
}

function compilePart(part: string): string | RegExp | null {
  if (!part.includes('#') && !part.includes('|')) return normalize(part) || null;
  const alts = part.split('|').map((alt) => alt.split('#').map((x) => escape(normalize(x).replace(/ /g, ''))).join('[0-9]+')).filter(Boolean);
  return alts.length ? new RegExp(alts.join('|')) : null;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
