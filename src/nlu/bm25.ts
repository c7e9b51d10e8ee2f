/** A BM25 index over pre-tokenised documents. */
export class Bm25Index {
  private readonly postings = new Map<string, { doc: number; tf: number }[]>();
  private readonly lengths: number[] = [];
  private readonly idfs = new Map<string, number>();
  private avgLength = 1;
  private mean: number | undefined;

  constructor(private readonly k1 = 1.2, private readonly b = 0.6) {}

  /** Adds a document; returns its number. */
  add(tokens: string[]): number {
    const doc = this.lengths.length;
    this.lengths.push(tokens.length);
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, n] of tf) {
      let list = this.postings.get(t);
      if (!list) this.postings.set(t, (list = []));
      list.push({ doc, tf: n });
    }
    return doc;
  }

  /** Computes IDF and average length; call after the last add. */
  finish(): void {
    const n = this.lengths.length;
    this.avgLength = this.lengths.reduce((a, b) => a + b, 0) / Math.max(1, n);
    for (const [t, list] of this.postings) this.idfs.set(t, Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5)));
  }

  /** IDF of a term; unseen terms get the highest IDF. */
  idf(term: string): number {
    return this.idfs.get(term) ?? Math.log(1 + (this.lengths.length + 0.5) / 0.5);
  }

  /** Mean IDF over all indexed terms. */
  meanIdf(): number {
    this.mean ??= [...this.idfs.values()].reduce((a, b) => a + b, 0) / Math.max(1, this.idfs.size);
    return this.mean;
  }

  /** Whether any document has the term. */
  has(term: string): boolean {
    return this.postings.has(term);
  }

  /** Scores every document that shares a term with the query (query terms de-duplicated, weighted). */
  score(query: Map<string, number>): Map<number, number> {
    const scores = new Map<number, number>();
    for (const [term, weight] of query) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.idfs.get(term)!;
      for (const { doc, tf } of list) {
        const norm = tf + this.k1 * (1 - this.b + (this.b * this.lengths[doc]!) / this.avgLength);
        scores.set(doc, (scores.get(doc) ?? 0) + weight * idf * ((tf * (this.k1 + 1)) / norm));
      }
    }
    return scores;
  }
}
