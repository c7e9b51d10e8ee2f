/** One training example. */
export interface LabelledText {
  features: string[];
  label: string;
}

/** Training settings for the softmax regression. */
export interface TrainOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

const DEFAULTS: TrainOptions = { epochs: 12, learningRate: 0.5, l2: 1e-5, seed: 7 };

/**
 * A linear text classifier: TF-IDF features (L2-normalised) and multinomial logistic (softmax) regression
 * trained by plain SGD. Small enough to train at start-up on the knowledge base's own phrases.
 */
export class SoftmaxClassifier {
  readonly classes: string[];
  private readonly index = new Map<string, number>();
  /** The same index split by prefix ('w:', 'c:', 'p:', 'q:', 'e:'; '' for the '#' bigrams), looked up by token. */
  private readonly byPrefix = new Map<string, Map<string, number>>();
  private readonly idf: Float32Array;
  private readonly weights: Float32Array;
  private readonly bias: Float32Array;

  private constructor(classes: string[], vocab: string[], idf: Float32Array, weights: Float32Array, bias: Float32Array) {
    this.classes = classes;
    vocab.forEach((f, i) => {
      this.index.set(f, i);
      const colon = f.startsWith('#') ? -1 : f.indexOf(':');
      const prefix = f.slice(0, colon + 1);
      let m = this.byPrefix.get(prefix);
      if (!m) this.byPrefix.set(prefix, (m = new Map()));
      m.set(f.slice(colon + 1), i);
    });
    this.idf = idf;
    this.weights = weights;
    this.bias = bias;
  }

  /** Trains a classifier on labelled feature lists. */
  static train(data: LabelledText[], options: Partial<TrainOptions> = {}): SoftmaxClassifier {
    const o = { ...DEFAULTS, ...options };
    const classes = [...new Set(data.map((d) => d.label))].sort();
    const classOf = new Map(classes.map((c, i) => [c, i]));
    const df = new Map<string, number>();
    for (const d of data) for (const f of new Set(d.features)) df.set(f, (df.get(f) ?? 0) + 1);
    const vocab = [...df.keys()].sort();
    const idf = new Float32Array(vocab.length);
    vocab.forEach((f, i) => (idf[i] = Math.log((1 + data.length) / (1 + df.get(f)!)) + 1));
    const K = classes.length;
    const model = new SoftmaxClassifier(classes, vocab, idf, new Float32Array(vocab.length * K), new Float32Array(K));
    const rows = data.map((d) => ({ x: model.vectorize(d.features), y: classOf.get(d.label)! }));
    const order = rows.map((_, i) => i);
    let rand = o.seed;
    const next = () => ((rand = (rand * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const p = new Float32Array(K);
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const lr = o.learningRate / (1 + epoch * 0.5);
      for (const r of order) {
        const { x, y } = rows[r]!;
        model.scoresInto(x, p);
        softmaxInPlace(p);
        p[y]! -= 1;
        // Only classes with a real gradient are touched: most probabilities are near zero after the first epoch.
        const active: number[] = [];
        for (let k = 0; k < K; k++) if (Math.abs(p[k]!) > 1e-3) active.push(k);
        const decay = 1 - lr * o.l2;
        for (const [f, v] of x) {
          const base = f * K;
          for (const k of active) model.weights[base + k] = model.weights[base + k]! * decay - lr * p[k]! * v;
        }
        for (const k of active) model.bias[k]! -= lr * p[k]! * 0.1;
      }
    }
    return model;
  }

  /** Serialises the model (for the on-disk cache). */
  toBuffer(): Buffer {
    const head = Buffer.from(JSON.stringify({ classes: this.classes, vocab: [...this.index.keys()] }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(head.length);
    const floats = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    return Buffer.concat([len, head, floats(this.idf), floats(this.weights), floats(this.bias)]);
  }

  /** Reads a model written by toBuffer; null when the buffer is not one. */
  static fromBuffer(buf: Buffer): SoftmaxClassifier | null {
    try {
      const n = buf.readUInt32LE(0);
      const { classes, vocab } = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as { classes: string[]; vocab: string[] };
      const rest = buf.subarray(4 + n);
      const copy = new Float32Array(new Uint8Array(rest).buffer);
      const V = vocab.length;
      const K = classes.length;
      if (copy.length !== V + V * K + K) return null;
      return new SoftmaxClassifier(classes, vocab, copy.slice(0, V), copy.slice(V, V + V * K), copy.slice(V + V * K));
    } catch {
      return null;
    }
  }

  /** The token → index table of one feature prefix (empty when the model has no feature of it). */
  tokens(prefix: string): ReadonlyMap<string, number> {
    return this.byPrefix.get(prefix) ?? new Map();
  }

  /** Class probabilities for weighted feature indices (from tokens(); each index once, in the order first seen), best first. */
  predictIds(weights: Map<number, number>): { label: string; p: number }[] {
    return this.probabilities(this.weighted(weights));
  }

  private probabilities(x: [number, number][]): { label: string; p: number }[] {
    const s = new Float32Array(this.classes.length);
    this.scoresInto(x, s);
    softmaxInPlace(s);
    return this.classes.map((label, i) => ({ label, p: s[i]! })).sort((a, b) => b.p - a.p);
  }

  /** Whether any of the features is known to the model. */
  knows(features: string[]): boolean {
    return features.some((f) => this.index.has(f));
  }

  private scoresInto(x: [number, number][], out: Float32Array): void {
    const K = this.classes.length;
    out.set(this.bias);
    for (const [f, v] of x) {
      const base = f * K;
      for (let k = 0; k < K; k++) out[k]! += this.weights[base + k]! * v;
    }
  }

  /** TF-IDF vector (log tf, L2-normalised) of a training example's features, repeats counting as term frequency. */
  private vectorize(features: string[]): [number, number][] {
    const tf = new Map<number, number>();
    for (const f of features) {
      const i = this.index.get(f);
      if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
    }
    return unit([...tf].map(([i, n]) => [i, (1 + Math.log(n)) * this.idf[i]!]));
  }

  /** TF-IDF vector (L2-normalised) of weighted feature indices: each index's weight times its IDF. */
  private weighted(weights: Map<number, number>): [number, number][] {
    return unit([...weights].map(([i, w]) => [i, 0 + w * this.idf[i]!]));
  }
}

/** Scales a sparse vector to unit length, in place (a zero vector stays as it is). */
function unit(x: [number, number][]): [number, number][] {
  let norm = 0;
  for (const [, v] of x) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  for (const e of x) e[1] = e[1] / norm;
  return x;
}

function softmaxInPlace(s: Float32Array): void {
  let max = -Infinity;
  for (const v of s) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i] = Math.exp(s[i]! - max);
  for (let i = 0; i < s.length; i++) s[i]! /= sum;
}
