/** Character bigrams of a text, ignoring spaces and punctuation (a single character counts as its own gram). */
export function bigrams(text: string): Set<string> {
  const chars = [...text.toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '')];
  const grams = new Set<string>();
  if (chars.length === 1) grams.add(chars[0]!);
  for (let i = 0; i + 1 < chars.length; i++) grams.add(chars[i]! + chars[i + 1]!);
  return grams;
}

/** Jaccard similarity of two gram sets (1 for two empty sets). */
export function jaccard(a: Set<string>, b: Set<string>): number {
  if (!a.size && !b.size) return 1;
  let common = 0;
  for (const g of a) if (b.has(g)) common++;
  return common / (a.size + b.size - common);
}

/** Code-point order: the same on every machine, unlike localeCompare. */
export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A group of similar texts. */
export interface TextCluster<T> {
  /** The most frequent text of the group. */
  label: string;
  count: number;
  members: T[];
}

/**
 * Greedy leader clustering by bigram Jaccard: texts in order of frequency, each joins the first group whose leader
 * is at least `threshold` similar, or leads a new group. Groups come back largest first.
 */
export function clusterTexts<T>(items: T[], textOf: (t: T) => string, threshold = 0.3): TextCluster<T>[] {
  const freq = new Map<string, number>();
  for (const it of items) freq.set(textOf(it), (freq.get(textOf(it)) ?? 0) + 1);
  const order = [...items].sort((a, b) => freq.get(textOf(b))! - freq.get(textOf(a))! || cmp(textOf(a), textOf(b)));
  const groups: Array<TextCluster<T> & { grams: Set<string> }> = [];
  for (const it of order) {
    const grams = bigrams(textOf(it));
    const home = groups.find((g) => jaccard(g.grams, grams) >= threshold);
    if (home) {
      home.count++;
      home.members.push(it);
    } else groups.push({ label: textOf(it), count: 1, members: [it], grams });
  }
  return groups.sort((a, b) => b.count - a.count || cmp(a.label, b.label)).map(({ grams: _g, ...g }) => g);
}
