import { pinyin } from 'pinyin-pro';
import { memoized } from './memo.js';

// The toneless Hanyu pinyin syllables (ü written v). Linguistic data, not service facts.
const SYLLABLES = new Set(
  `a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng di dia dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu long lou lu luan lun luo lv lve lue ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nuo nv nve nue ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo`.split(' '),
);
const MAX_SYLLABLE = 6;
const HAN = /\p{Script=Han}/u;

/** Strips tone marks and tone digits from a latin token: "shuǐ" / "shui3" → "shui"; ü → v. */
export function stripTones(token: string): string {
  return token
    .normalize('NFD')
    .replace(/u\u0308/g, 'v')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ü/g, 'v')
    .replace(/([a-z])[1-5](?=[a-z]|$)/g, '$1');
}

/** Splits a latin run into toneless pinyin syllables ("shuibiao" → shui biao), fewest syllables first; null when it is not pinyin. */
export function syllables(run: string): string[] | null {
  const s = stripTones(run.toLowerCase()).replace(/'/g, '');
  if (!s || /[^a-z]/.test(s)) return null;
  // best[i] = fewest syllables covering s[0..i)
  const best: (string[] | null)[] = [[]];
  for (let i = 1; i <= s.length; i++) {
    best[i] = null;
    for (let l = Math.min(MAX_SYLLABLE, i); l >= 1; l--) {
      const prev = best[i - l];
      const syl = s.slice(i - l, i);
      if (prev && SYLLABLES.has(syl) && (!best[i] || prev.length + 1 < best[i]!.length)) best[i] = [...prev, syl];
    }
  }
  return best[s.length] ?? null;
}

/** Toneless pinyin syllables of Chinese text, one per Han character (other characters skipped). */
export const pinyinOf = memoized((text: string): string[] => {
  const chars = [...text].filter((c) => HAN.test(c));
  if (!chars.length) return [];
  return tonelessPinyin(chars.join('')).map((p) => p.replace(/ü/g, 'v'));
});

/** Toned syllable → toneless, as pinyin-pro's own toneType 'none' strips it (a table of the few hundred syllables seen). */
const TONELESS = new Map<string, string>();

/**
 * pinyin-pro's `pinyin(text, { toneType: 'none', type: 'array' })`, one entry per character, computed cheaper: its
 * 'none' runs nine regular expressions over every syllable of every call; here each toned syllable is stripped once.
 * Characters that are not Chinese come back as themselves, untouched, as pinyin-pro leaves them.
 */
export const tonelessPinyin = memoized((text: string): string[] => {
  const toned = pinyin(text, { type: 'array' });
  const chars = Array.from(text);
  return toned.map((p, i) => (p === chars[i] ? p : stripped(p)));
});

function stripped(syllable: string): string {
  let s = TONELESS.get(syllable);
  if (s === undefined) {
    s = syllable
      .replace(/(ā|á|ǎ|à)/g, 'a')
      .replace(/(ō|ó|ǒ|ò)/g, 'o')
      .replace(/(ē|é|ě|è)/g, 'e')
      .replace(/(ī|í|ǐ|ì)/g, 'i')
      .replace(/(ū|ú|ǔ|ù)/g, 'u')
      .replace(/(ǖ|ǘ|ǚ|ǜ)/g, 'ü')
      .replace(/(n̄|ń|ň|ǹ)/g, 'n')
      .replace(/(m̄|ḿ|m̌|m̀)/g, 'm')
      .replace(/(ê̄|ế|ê̌|ề)/g, 'ê');
    TONELESS.set(syllable, s);
  }
  return s;
}

/**
 * Turns pinyin typed without an IME back into the knowledge base's own words: "shuibiao huaile" → "水表坏了".
 * Words are looked up by the pinyin of their syllables; of two words that sound the same, the more frequent wins.
 */
export class PinyinReader {
  private readonly byKey = new Map<string, { word: string; n: number }>();
  private maxLen = 1;

  /** Indexes words (with how often the knowledge base uses them). */
  constructor(words: Map<string, number>, keyOf: (w: string) => string = (w) => pinyinOf(w).join(' ')) {
    for (const [word, n] of words) {
      if (![...word].every((c) => HAN.test(c)) || word.length > 8) continue;
      const key = keyOf(word);
      const prev = this.byKey.get(key);
      if (!prev || n > prev.n || (n === prev.n && word.length > prev.word.length)) this.byKey.set(key, { word, n });
      this.maxLen = Math.max(this.maxLen, word.length);
    }
  }

  /** The text with every latin run that reads as pinyin replaced by Chinese words; `converted` tells whether any was. */
  read(text: string, isEnglish: (token: string) => boolean = () => false): { text: string; converted: boolean; syllables: string[] } {
    let converted = false;
    const all: string[] = [];
    const out = text.replace(/[a-zA-Z\u00c0-\u024f'\u0300-\u036f]+[1-5]?(?:[a-zA-Z\u00c0-\u024f'\u0300-\u036f]+[1-5]?)*/g, (run) => {
      if (isEnglish(run.toLowerCase())) return run;
      const syl = syllables(run);
      // One short syllable on its own ("a", "e") is more likely a stray letter than pinyin.
      if (!syl || (syl.length === 1 && run.length < 2)) return run;
      all.push(...syl);
      converted = true;
      return this.words(syl);
    });
    return { text: converted ? this.joinHan(out) : text, converted, syllables: all };
  }

  /** Covers a syllable sequence with known words, longest first; unknown syllables stay as pinyin. */
  private words(syl: string[]): string {
    const parts: string[] = [];
    for (let i = 0; i < syl.length; ) {
      let hit: string | null = null;
      let len = 0;
      for (let l = Math.min(this.maxLen, syl.length - i); l >= 1 && !hit; l--) {
        const w = this.byKey.get(syl.slice(i, i + l).join(' '));
        if (w) [hit, len] = [w.word, l];
      }
      if (hit) {
        parts.push(hit);
        i += len;
      } else {
        parts.push(` ${syl[i]} `);
        i += 1;
      }
    }
    return parts.join('');
  }

  /** Removes the spaces between Chinese characters that separated pinyin words. */
  private joinHan(s: string): string {
    return s.replace(/(\p{Script=Han})\s+(?=\p{Script=Han})/gu, '$1').replace(/\s+/g, ' ').trim();
  }
}
