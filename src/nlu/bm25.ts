/** A BM25 index over pre-tokenised documents. */
export class Bm25Index {
  private readonly postings = new Map<string, { doc: number; tf: number }[]>();
  /** Per term, its documents and each one's BM25 term weight (tf saturation × length norm), computed by finish(). */
  private readonly weighted = new Map<string, { idf: number; docs: Int32Array; parts: Float64Array }>();
  private readonly lengths: number[] = [];
  private readonly idfs = new Map<string, number>();
  private avgLength = 1;
  /** Scratch space of `score` (cleared after each call): running sums, the order documents were reached in, and whether they were. */
  private sums = new Float64Array(0);
  private order = new Int32Array(0);
  private reached = new Uint8Array(0);
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
    for (const [t, list] of this.postings) {
      const parts = Float64Array.from(list, ({ doc, tf }) => (tf * (this.k1 + 1)) / (tf + this.k1 * (1 - this.b + (this.b * this.lengths[doc]!) / this.avgLength)));
      this.weighted.set(t, { idf: this.idfs.get(t)!, docs: Int32Array.from(list, (p) => p.doc), parts });
    }
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

  /**
   * Scores every document that shares a term with the query (query terms de-duplicated, weighted): `visit` gets each
   * scored document once, in the order the query first reached it.
   */
  score(query: Map<string, number>, visit: (doc: number, score: number) => void): void {
    const n = this.lengths.length;
    if (this.sums.length !== n) this.sums = new Float64Array(n);
    if (this.order.length !== n) [this.order, this.reached] = [new Int32Array(n), new Uint8Array(n)];
    const sums = this.sums;
    let reached = 0;
    for (const [term, weight] of query) {
      const w = this.weighted.get(term);
      if (!w) continue;
      const f = weight * w.idf;
      for (let i = 0; i < w.docs.length; i++) {
        const doc = w.docs[i]!;
        const add = f * w.parts[i]!;
        if (!this.reached[doc]) {
          this.reached[doc] = 1;
          this.order[reached++] = doc;
        }
        sums[doc] += add;
      }
    }
    for (let i = 0; i < reached; i++) {
      const doc = this.order[i]!;
      const s = sums[doc]!;
      sums[doc] = 0;
      this.reached[doc] = 0;
      visit(doc, s);
    }
  }
}
