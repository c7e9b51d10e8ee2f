import { beforeAll, describe, expect, it } from 'vitest';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { Analyzer, bigramsOf } from '../../src/nlu/index.js';
import { fullDictionary, knowledgeText, trimDictionary } from '../../src/nlu/dictionary.js';

let kb: KnowledgeBase;
let analyzer: Analyzer;

beforeAll(() => {
  kb = loadKnowledge();
  analyzer = new Analyzer(kb.synonyms, kb.intents.stopwords);
});

const cut = (text: string) => analyzer.segment(analyzer.clean(text));
const words = (text: string) => analyzer.analyze(text).words;

describe('Analyzer: segmentation', () => {
  it.each([
    ['我的户号是多少', '户号'],
    ['水表坏了', '水表'],
    ['二次供水水压不够', '二次供水'],
    ['湖北政务服务网能办吗', '湖北政务服务网'],
    ['滞纳金能免吗', '滞纳金'],
    ['阶梯水价怎么算', '阶梯水价'],
    ['一户一表怎么装', '一户一表'],
    ['水管家是什么服务', '水管家'],
    ['打96510人工', '96510'],
  ])('keeps the domain word whole in %s', (text, word) => {
    expect(cut(text)).toContain(word);
  });

  it('does not split a domain word into single characters', () => {
    const tokens = cut('我家的二次供水水箱脏了');
    expect(tokens).toContain('二次供水');
    expect(tokens).not.toContain('供');
  });
});

describe('Analyzer: synonyms', () => {
  it.each([
    ['用户编号忘了', '户号', '用户编号'],
    ['客户号在哪看', '户号', '客户号'],
    ['我想改名', '更名', '改名'],
    ['户名变更怎么办', '更名', '户名变更'],
    ['转户要带什么', '过户', '转户'],
    ['缴费', '交费', '缴费'],
    ['自来水费怎么交', '水费', '自来水费'],
    ['增值税专用发票怎么开', '专票', '增值税专用发票'],
    ['材料不齐能办吗', '容缺', '材料不齐'],
    ['政务服务网能办吗', '湖北政务服务网', '政务服务网'],
  ])('folds %s to the canonical word', (text, canonical, variant) => {
    const a = analyzer.analyze(text);
    expect(a.words).toContain(canonical);
    expect(a.words).not.toContain(variant);
    // Variants of three or more characters are also replaced in the text; two-character ones only as words.
    if ([...variant].length >= 3) expect(a.text).toContain(canonical);
  });

  it('leaves a canonical word that contains one of its own variants as it is', () => {
    expect(analyzer.analyze('湖北政务服务网能办吗').text).toBe('湖北政务服务网能办吗');
  });

  it('folds every variant of a group the same way', () => {
    const group = kb.synonyms.groups.find((g) => g[0] === '户号')!;
    for (const w of group) expect(words(`${w}忘了`)).toContain('户号');
  });
});

describe('Analyzer: typos', () => {
  it.each([
    ['过护要带什么', '过户'],
    ['户好忘了', '户号'],
    ['水标不转了', '水表'],
    ['暴管了', '爆管'],
    ['二词供水', '二次供水'],
    ['容却办理', '容缺'],
  ])('fixes %s', (text, right) => {
    expect(analyzer.clean(text)).toContain(right);
    expect(words(text)).toContain(right);
  });

  it('leaves correct text alone', () => {
    expect(analyzer.clean('过户要带什么')).toBe('过户要带什么');
  });
});

describe('Analyzer: stop words', () => {
  it('drops function words and keeps the topic', () => {
    expect(words('我想请问一下过户的流程')).toEqual(['过户', '流程']);
    expect(words('你好啊')).not.toContain('啊');
  });

  it('leaves nothing for a message of stop words only', () => {
    expect(words('我想请问一下')).toEqual([]);
  });
});

describe('Analyzer: numbers', () => {
  it('keeps a long digit run as one number, not dictionary pieces of it', () => {
    const a = new Analyzer(kb.synonyms, kb.intents.stopwords, ['12345']);
    expect(a.analyze('123456789012345678').words).toEqual(['123456789012345678']);
    expect(a.analyze('打12345投诉').words).toContain('12345');
  });
});

describe('bigrams', () => {
  it('pairs neighbouring characters within each run, prefixed #', () => {
    expect(bigramsOf('过户流程')).toEqual(['#过户', '#户流', '#流程']);
    expect(bigramsOf('过户 流程')).toEqual(['#过户', '#流程']);
  });

  it('keeps a single character as a unigram and ignores empty text', () => {
    expect(bigramsOf('水')).toEqual(['#水']);
    expect(bigramsOf('a 过户吗')).toEqual(['#a', '#过户', '#户吗']);
    expect(bigramsOf('')).toEqual([]);
  });

  it('analyze() returns the bigrams of its folded text', () => {
    const a = analyzer.analyze('用户编号忘了');
    expect(a.text).toBe('户号忘了');
    expect(a.bigrams).toEqual(['#户号', '#号忘', '#忘了']);
  });
});

describe('trimmed dictionary', () => {
  it('segments every knowledge text exactly as the full dictionary does, at a fraction of its size', () => {
    const full = fullDictionary();
    const trimmed = trimDictionary(full, knowledgeText(kb));
    expect(trimmed.length).toBeLessThan(full.length / 2);
    const small = new Analyzer(kb.synonyms, kb.intents.stopwords, [], trimmed);
    const texts = [...kb.items.values()].flatMap((i) => [i.title, i.answer, ...i.aliases, ...i.examples, ...i.faqs.map((f) => f.q)]);
    expect(texts.length).toBeGreaterThan(300);
    for (const t of texts) expect(small.segment(small.clean(t))).toEqual(analyzer.segment(analyzer.clean(t)));
  });
});
