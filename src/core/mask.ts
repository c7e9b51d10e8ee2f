/** Masks personal numbers for display: keeps a few leading and trailing characters. */
export function maskValue(value: string, keepStart = 3, keepEnd = 4): string {
  if (value.length <= keepStart + keepEnd) return '*'.repeat(value.length);
  return value.slice(0, keepStart) + '*'.repeat(value.length - keepStart - keepEnd) + value.slice(-keepEnd);
}

/** Masks every personal number in a text; with `allowPublic`, the utility's published example numbers stay. */
export type Masker = (text: string, opts?: { allowPublic?: boolean }) => string;

/** What the masker looks for besides the fixed 身份证 / USCC / mobile shapes. */
export interface MaskOptions {
  /** The 户号 format of utility.yaml (`accountNumber.pattern`, e.g. `^\d{10}$`); anchors are dropped. */
  accountPattern?: string;
  /** Numbers published by the utility itself (examples in prompts): not personal, never masked when `allowPublic`. */
  allow?: Iterable<string>;
}

// Longest first, each bounded so a number inside a longer run of digits or letters is not cut in two.
const ID_CARD = String.raw`(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])`;
const USCC = String.raw`(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])`;
const MOBILE = String.raw`(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)`;

/** Turns a whole-value pattern (`^\d{10}$`) into one that finds the value inside a text. */
function inText(pattern: string): string {
  const body = pattern.replace(/^\^/, '').replace(/\$$/, '');
  return String.raw`(?<![0-9A-Za-z])(?:${body})(?![0-9A-Za-z])`;
}

/** How much of each kind stays visible: the way the flows' summaries show them. */
function hide(match: string): string {
  const chars = match.replace(/[- ]/g, '');
  if (/^(\+?86)?1[3-9]\d{9}$/.test(chars)) return maskValue(chars.slice(-11), 3, 4);
  if (chars.length >= 15) return maskValue(chars, 4, 4);
  return maskValue(chars, 2, 2);
}

/** One regex for every shape; an invalid 户号 pattern (reported by the knowledge loader) is left out. */
function shapes(accountPattern?: string): RegExp {
  const parts = [ID_CARD, USCC, MOBILE];
  if (accountPattern) {
    try {
      parts.push(new RegExp(inText(accountPattern)).source);
    } catch {
      // keep the fixed shapes
    }
  }
  return new RegExp(parts.join('|'), 'g');
}

const compact = (m: string) => m.replace(/[- ]/g, '');

/** Creates the shared masking function for 身份证 (18), USCC (18), mobile (1[3-9], 11 digits) and 户号. */
export function createMasker(opts: MaskOptions = {}): Masker {
  const re = shapes(opts.accountPattern);
  const allow = new Set([...(opts.allow ?? [])].map(compact));
  return (text, { allowPublic = false } = {}) => text.replace(re, (m) => (allowPublic && allow.has(compact(m)) ? m : hide(m)));
}

/** Every personal-number shape found in a text (compacted): collects the utility's published example numbers. */
export function personalNumbersIn(text: string, accountPattern?: string): string[] {
  return [...text.matchAll(shapes(accountPattern))].map((m) => compact(m[0]));
}

/** A masker whose rules can be replaced while everything holding it keeps the same function (knowledge hot reload). */
export interface SwappableMasker extends Masker {
  /** From now on, masks with `next`. */
  swap(next: Masker): void;
}

/** Wraps `initial` so a reload can swap in the masker of the new knowledge (its 户号 format, its examples). */
export function swappableMasker(initial: Masker): SwappableMasker {
  let current = initial;
  const mask = ((text, opts) => current(text, opts)) as SwappableMasker;
  mask.swap = (next) => void (current = next);
  return mask;
}
