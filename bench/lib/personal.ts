// Fresh personal numbers for benchmark conversations, so no two conversations type the same 身份证, USCC, mobile
// or 户号. The check characters are not computed here: the candidates are tried against the dialogue's own
// validators (GB 11643 / GB 32100), so a generated number is valid exactly when the assistant says it is.
import { checkIdCard, checkMobile, checkUscc } from '../../src/dialogue/index.js';

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** A small seeded generator (mulberry32): the same seed gives the same corpus and the same conversations. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const digits = (rng: Random, n: number) => Array.from({ length: n }, () => Math.floor(rng() * 10)).join('');
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The one check character of `candidates` that makes `body + c` pass `valid`. */
function withCheck(body: string, candidates: string, valid: (s: string) => boolean): string {
  for (const c of candidates) if (valid(body + c)) return body + c;
  throw new Error(`no check character makes ${body}… valid`);
}

/** A valid 18-digit 身份证号 with the region code of `like` (a valid one), a birth date in 1950–2004 and a random sequence. */
export function idCard(rng: Random, like: string): string {
  const birth = new Date(Date.UTC(1950, 0, 1) + Math.floor(rng() * 55 * 365) * 86_400_000);
  const day = `${birth.getUTCFullYear()}${pad(birth.getUTCMonth() + 1, 2)}${pad(birth.getUTCDate(), 2)}`;
  return withCheck(`${like.slice(0, 6)}${day}${digits(rng, 3)}`, '0123456789X', (s) => checkIdCard(s).ok);
}

/** A valid 统一社会信用代码 keeping the registration prefix (department, kind, region) of `like`. */
export function uscc(rng: Random, like: string): string {
  return withCheck(`${like.slice(0, 8)}${digits(rng, 9)}`, '0123456789ABCDEFGHJKLMNPQRTUWXY', (s) => checkUscc(s).ok);
}

/** A valid mainland mobile number (13x–19x). */
export function mobile(rng: Random): string {
  const m = `1${3 + Math.floor(rng() * 7)}${digits(rng, 9)}`;
  if (!checkMobile(m).ok) throw new Error(`generated mobile ${m} is not valid`);
  return m;
}

/** A 户号 of the same length as `like`, keeping its first two digits (the utility's numbering). */
export function accountNumber(rng: Random, like: string): string {
  return like.slice(0, 2) + digits(rng, like.length - 2);
}

/** What replaces a typed number: a fresh one of the same kind, or null for no personal number (or an invalid one). */
function freshOf(m: string, rng: Random, account: RegExp): string | null {
  if (m.length === 18 && checkIdCard(m).ok) return idCard(rng, m);
  if (m.length === 18 && checkUscc(m).ok) return uscc(rng, m);
  if (/^1[3-9]\d{9}$/.test(m)) return mobile(rng);
  if (/^\d+$/.test(m) && account.test(m)) return accountNumber(rng, m);
  return null;
}

/**
 * Replaces the valid personal numbers in a typed text (身份证, USCC, mobile, 户号) with fresh ones; `seen` keeps one
 * replacement per original, so a number typed twice in a conversation stays the same number. Invalid numbers (the
 * typos a script tests) are kept.
 */
export function varyNumbers(text: string, rng: Random, seen: Map<string, string>, account: RegExp): string {
  return text.replace(/(?<![\dA-Z])[\dA-Z]{6,18}(?![\dA-Z])/g, (m) => {
    if (!seen.has(m)) seen.set(m, freshOf(m, rng, account) ?? m);
    return seen.get(m)!;
  });
}
