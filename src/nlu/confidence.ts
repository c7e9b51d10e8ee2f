import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The evidence about a ranking's top candidate that the calibrated confidence reads. */
export interface Evidence {
  /** log(1 + top lexical score). */
  lexTop: number;
  /** 1 − runner-up / top of the lexical ranking. */
  lexMargin: number;
  /** IDF-weighted share of the asking part's words that the top target knows. */
  coverage: number;
  /** The linear classifier's probability of the fused top. */
  linP: number;
  /** Its probability minus that of the best other target. */
  linMargin: number;
  /** 1 when the lexical and the linear rankings agree on the top. */
  agree: number;
  /** 1 − runner-up / top of the fused ranking. */
  fusedMargin: number;
  /** 1 when the message has water-service words. */
  domain: number;
  /** 1 when the message names the top target by alias or keyword. */
  named: number;
  /** log(1 + characters). */
  logLen: number;
  /** The linear classifier's probability that the message is about something else. */
  oosP: number;
}

/** Names of the evidence fields, in model order. */
export const EVIDENCE = ['lexTop', 'lexMargin', 'coverage', 'linP', 'linMargin', 'agree', 'fusedMargin', 'domain', 'named', 'logLen', 'oosP'] as const;

/** Fitted calibration: logistic weights over the evidence, the fusion weight and the decision points. */
export interface Calibration {
  /** Weight of the linear classifier against the lexical ranking in the fusion (0..1). */
  linearWeight: number;
  /** Logistic weights: bias first, then one per EVIDENCE field. */
  weights: number[];
  /** Confidence at or above which the top is answered. */
  answerAt: number;
  /** Confidence at or above which (or with water words) a clarify is offered instead of a fallback. */
  clarifyAt: number;
  /** Above the clarify point, the top is also answered when its margin over every rival that is another service is at least this. */
  marginAt?: number;
  /** Where the weights came from. */
  fittedOn?: string;
}

/** Used until `npm run calibrate` has written src/nlu/calibration.json. */
export const DEFAULT_CALIBRATION: Calibration = {
  linearWeight: 0.5,
  weights: [-3, 0.5, 2, 2, 3, 2, 0.8, 2, 0.5, 0.8, 0, -3],
  answerAt: 0.5,
  clarifyAt: 0.15,
};

const FILE = fileURLToPath(new URL('./calibration.json', import.meta.url));

/** Loads the committed calibration, or the defaults when it is missing or malformed. */
export function loadCalibration(path = FILE): Calibration {
  if (!existsSync(path)) return DEFAULT_CALIBRATION;
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Calibration;
    if (c.weights?.length !== EVIDENCE.length + 1 || typeof c.answerAt !== 'number') return DEFAULT_CALIBRATION;
    return c;
  } catch {
    return DEFAULT_CALIBRATION;
  }
}

/** The evidence as a vector in model order. */
export function evidenceVector(e: Evidence): number[] {
  return EVIDENCE.map((k) => e[k]);
}

/** Highest confidence of a top that nothing but a weak lexical match supports: enough to offer, never to answer. */
export const UNSUPPORTED = 0.3;
/** Least linear-classifier probability that counts as support for the top on its own. */
const LINEAR_SUPPORT = 0.1;

/**
 * Whether anything besides a weak lexical match points at the top: the message names it, both rankers agree,
 * or the trained model gives it a fair probability. Without support ("过几天吧") the top is never answered outright.
 */
export function supported(e: Evidence): boolean {
  return e.named > 0 || e.agree > 0 || e.linP >= LINEAR_SUPPORT;
}

/** Probability that the top candidate is right. */
export function confidenceOf(e: Evidence, c: Calibration): number {
  const x = evidenceVector(e);
  let z = c.weights[0]!;
  for (let i = 0; i < x.length; i++) z += c.weights[i + 1]! * x[i]!;
  return 1 / (1 + Math.exp(-z));
}

/** Fits logistic weights by gradient descent on standardised evidence (for scripts/calibrate.ts); returns raw-scale weights. */
export function fitLogistic(rows: { x: number[]; y: number }[], epochs = 4000, lr = 0.5, l2 = 1e-3): number[] {
  const m = rows[0]?.x.length ?? 0;
  const mean = new Array<number>(m).fill(0);
  const sd = new Array<number>(m).fill(0);
  for (const { x } of rows) x.forEach((v, i) => (mean[i]! += v / rows.length));
  for (const { x } of rows) x.forEach((v, i) => (sd[i]! += (v - mean[i]!) ** 2 / rows.length));
  for (let i = 0; i < m; i++) sd[i] = Math.sqrt(sd[i]!) || 1;
  const z = rows.map(({ x, y }) => ({ x: x.map((v, i) => (v - mean[i]!) / sd[i]!), y }));
  const w = new Array<number>(m + 1).fill(0);
  for (let e = 0; e < epochs; e++) {
    const g = new Array<number>(m + 1).fill(0);
    for (const { x, y } of z) {
      let s = w[0]!;
      for (let i = 0; i < m; i++) s += w[i + 1]! * x[i]!;
      const err = 1 / (1 + Math.exp(-s)) - y;
      g[0]! += err;
      for (let i = 0; i < m; i++) g[i + 1]! += err * x[i]!;
    }
    for (let i = 0; i <= m; i++) w[i]! -= lr * (g[i]! / z.length + (i ? l2 * w[i]! : 0));
  }
  // Back to the raw scale: w·(x − mean)/sd = Σ (w/sd)·x − Σ w·mean/sd.
  const raw = [w[0]!];
  for (let i = 0; i < m; i++) {
    raw.push(w[i + 1]! / sd[i]!);
    raw[0]! -= (w[i + 1]! * mean[i]!) / sd[i]!;
  }
  return raw;
}
