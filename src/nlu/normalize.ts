import * as OpenCC from 'opencc-js';

const convertToSimplified = OpenCC.Converter({ from: 't', to: 'cn' });

/**
 * Where the traditional → simplified dictionaries opencc-js applies can match: the one-character entries, and the
 * first two characters of the longer ones. A text holding none of them converts to itself, so most messages skip
 * the converter. Null (always convert) when the package's tables are not laid out as expected.
 */
const CONVERTIBLE = ((): { one: Set<number>; two: Set<number> } | null => {
  const config = (OpenCC.Locale as { configs?: Record<string, { normalizationChain?: unknown; conversionChain?: unknown; segmentation?: unknown }> }).configs?.t2s;
  const groups = [config?.normalizationChain, config?.conversionChain];
  if (!config || config.segmentation || !groups.every((g) => Array.isArray(g) && g.every((d) => Array.isArray(d) && d.every((x) => typeof x === 'string')))) return null;
  const one = new Set<number>();
  const two = new Set<number>();
  for (const group of groups as string[][][])
    for (const dict of group)
      for (const d of dict)
        for (const entry of d.split('|')) {
          const key = Array.from(entry.split(' ')[0]!, (c) => c.codePointAt(0)!);
          // toSimplified skips ASCII; tables that convert it would need every character looked up.
          if (key.slice(0, 2).some((c) => c < 0x80)) return null;
          if (key.length === 1) one.add(key[0]!);
          else if (key.length > 1) two.add(pair(key[0]!, key[1]!));
        }
  return { one, two };
})();

/** Traditional characters to simplified (opencc-js), skipped when no dictionary entry can match. */
export function toSimplified(s: string): string {
  if (!CONVERTIBLE) return convertToSimplified(s);
  let prev = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    if (c > 0xffff) i++;
    // ASCII converts to nothing: most of a message's characters need no look-up.
    if (c >= 0x80 && (CONVERTIBLE.one.has(c) || (prev >= 0 && CONVERTIBLE.two.has(pair(prev, c))))) return convertToSimplified(s);
    prev = c;
  }
  return s;
}

/** One number for two code points. */
function pair(a: number, b: number): number {
  return a * 0x110000 + b;
}

const DIGITS: Record<string, number> = {
  零: 0, 〇: 0, 一: 1, 壹: 1, 二: 2, 贰: 2, 两: 2, 三: 3, 叁: 3, 四: 4, 肆: 4,
  五: 5, 伍: 5, 六: 6, 陆: 6, 七: 7, 柒: 7, 八: 8, 捌: 8, 九: 9, 玖: 9,
};
const UNITS: Record<string, number> = { 十: 10, 拾: 10, 百: 100, 佰: 100, 千: 1000, 仟: 1000, 万: 10_000 };
const NUM_CHARS = '零〇一壹二贰两三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟万';
// Only numerals followed by a measure word (or after DN) are numbers; 一件事 and 一户一表 are names.
const NUMERAL_BEFORE_MEASURE = new RegExp(
  `([${NUM_CHARS}]+)(?=(个|天|日|号|口|人|位|户|毫米|mm|元|块|吨|方|立方|年|月|周|小时|分钟|次|趟|项|倍|层|楼))`,
  'g',
);
const ANY_NUMERAL = new RegExp(`[${NUM_CHARS}]`);
const NUMERAL_AFTER_DN = new RegExp(`(dn)([${NUM_CHARS}]+)`, 'g');
/** Set phrases whose numerals stand before a measure word but are part of a name, not a count. */
const FIXED_PHRASES = ['一户一表', '二次供水'];

/** Converts a Chinese numeral ("二十五", "一百", "两") to a number, or null. */
export function chineseNumber(s: string): number | null {
  if (!s) return null;
  if ([...s].every((c) => c in DIGITS) && s.length > 1) {
    return Number([...s].map((c) => DIGITS[c]).join(''));
  }
  let total = 0;
  let section = 0;
  let digit = 0;
  for (const c of s) {
    if (c in DIGITS) digit = DIGITS[c]!;
    else if (c === '万') {
      total += (section + digit) * 10_000;
      section = 0;
      digit = 0;
    } else if (c in UNITS) {
      section += (digit || 1) * UNITS[c]!;
      digit = 0;
    } else return null;
  }
  return total + section + digit;
}

/** Replaces Chinese numerals that count something with Arabic digits. */
export function convertNumerals(text: string): string {
  if (!ANY_NUMERAL.test(text)) return text;
  const conv = (m: string) => {
    const n = chineseNumber(m);
    return n === null ? m : String(n);
  };
  const s = text.replace(NUMERAL_AFTER_DN, (_, dn: string, num: string) => dn + conv(num));
  // Numerals inside a fixed phrase are kept.
  const fixed: [number, number][] = [];
  for (const p of FIXED_PHRASES) for (let i = s.indexOf(p); i >= 0; i = s.indexOf(p, i + p.length)) fixed.push([i, i + p.length]);
  const inFixed = (at: number) => fixed.some(([a, b]) => at >= a && at < b);
  return s.replace(NUMERAL_BEFORE_MEASURE, (m: string, _num: string, _measure: string, at: number) => (inFixed(at) ? m : conv(m)));
}

const PUNCT = /[\p{P}\p{S}\p{Z}\s]+/gu;
const EMOJI = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\u200d|\ufe0f/gu;

/**
 * Normalises user text for matching: full-width to half-width, traditional to simplified,
 * lower case, emoji and punctuation to single spaces, Chinese numerals to digits.
 */
export function normalize(raw: string): string {
  let s = raw.normalize('NFKC');
  s = s.replace(EMOJI, ' ');
  s = s.replace(/<[^>]{0,200}>/g, ' ');
  s = toSimplified(s);
  s = s.toLowerCase();
  s = s.replace(PUNCT, ' ').trim();
  s = convertNumerals(s);
  return s;
}
