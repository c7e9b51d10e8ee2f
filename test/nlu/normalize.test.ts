import { describe, expect, it } from 'vitest';
import { chineseNumber, convertNumerals, normalize } from '../../src/nlu/index.js';

describe('normalize', () => {
  it('turns full-width letters, digits and spaces into half-width', () => {
    expect(normalize('ＤＮ１００的水表')).toBe('dn100的水表');
    expect(normalize('Ｈｅｌｌｏ　Ｗｏｒｌｄ')).toBe('hello world');
    expect(normalize('户号１２３４５６７８')).toBe('户号12345678');
  });

  it('turns traditional characters into simplified ones', () => {
    expect(normalize('過戶')).toBe('过户');
    expect(normalize('過戶要帶什麼')).toBe('过户要带什么');
    expect(normalize('水錶')).toBe('水表');
    expect(normalize('戶號')).toBe('户号');
    expect(normalize('房產證已經過戶了')).toBe('房产证已经过户了');
  });

  it('lower-cases Latin letters', () => {
    expect(normalize('DN100')).toBe('dn100');
    expect(normalize('APP')).toBe('app');
    expect(normalize('How To Pay')).toBe('how to pay');
  });

  it('strips punctuation, keeping one space between the parts it separated', () => {
    expect(normalize('过户？！。。。')).toBe('过户');
    expect(normalize('过户，要带什么？')).toBe('过户 要带什么');
    expect(normalize('“五零”服务')).toBe('五零 服务');
    expect(normalize('【通知】停水！')).toBe('通知 停水');
    expect(normalize('  多个   空格  ')).toBe('多个 空格');
  });

  it('strips emoji, skin tones and joiners', () => {
    expect(normalize('过户😀😀要带什么👍🏻')).toBe('过户 要带什么');
    expect(normalize('停水了😭😭😭')).toBe('停水了');
    expect(normalize('👨‍👩‍👧水费')).toBe('水费');
    expect(normalize('😀😀😀')).toBe('');
  });

  it('strips HTML tags', () => {
    expect(normalize('<b>过户</b>要带什么')).toBe('过户 要带什么');
    expect(normalize('<script>alert(1)</script>')).toBe('alert 1');
  });

  it('converts Chinese numerals that count something before a measure word', () => {
    expect(normalize('两个工作日')).toBe('2个工作日');
    expect(normalize('三十天')).toBe('30天');
    expect(normalize('我家有五口人')).toBe('我家有5口人');
    expect(normalize('一千二百吨')).toBe('1200吨');
    expect(normalize('十五号停水吗')).toBe('15号停水吗');
    expect(normalize('两个工作日能办完吗？')).toBe('2个工作日能办完吗');
  });

  it('converts Chinese numerals after DN', () => {
    expect(normalize('DN一百')).toBe('dn100');
    expect(normalize('dn五十的管子')).toBe('dn50的管子');
    expect(normalize('ＤＮ四十')).toBe('dn40');
  });

  it('leaves numerals that are part of a name or word unchanged', () => {
    expect(normalize('一件事')).toBe('一件事');
    expect(normalize('一户一表')).toBe('一户一表');
    expect(normalize('一户一表要几个工作日')).toBe('一户一表要几个工作日');
    expect(normalize('二次供水')).toBe('二次供水');
    expect(normalize('一表申请')).toBe('一表申请');
    expect(normalize('统一')).toBe('统一');
    expect(normalize('一起办')).toBe('一起办');
    expect(normalize('零跑腿')).toBe('零跑腿');
    expect(normalize('五零服务')).toBe('五零服务');
  });

  it('converts counts next to a fixed phrase but not the phrase itself', () => {
    expect(normalize('一户一表，两个工作日')).toBe('一户一表 2个工作日');
  });

  it('is idempotent', () => {
    for (const s of ['過戶要帶什麼？', 'ＤＮ一百', '两个工作日', '一户一表', '<b>过户</b>😀']) {
      expect(normalize(normalize(s))).toBe(normalize(s));
    }
  });

  it('returns an empty string for empty or blank input', () => {
    expect(normalize('')).toBe('');
    expect(normalize('   ')).toBe('');
    expect(normalize('\t\n')).toBe('');
  });
});

describe('convertNumerals', () => {
  it('converts only counted numerals', () => {
    expect(convertNumerals('两个工作日')).toBe('2个工作日');
    expect(convertNumerals('dn一百')).toBe('dn100');
    expect(convertNumerals('一件事')).toBe('一件事');
    expect(convertNumerals('一户一表')).toBe('一户一表');
  });
});

describe('chineseNumber', () => {
  it.each([
    ['零', 0],
    ['一', 1],
    ['两', 2],
    ['十', 10],
    ['十五', 15],
    ['二十五', 25],
    ['一百', 100],
    ['两百五十', 250],
    ['一千零五', 1005],
    ['三万', 30_000],
    ['一万二千', 12_000],
    ['二十万', 200_000],
    ['壹佰', 100],
    ['一二三', 123],
  ])('%s → %d', (text, value) => {
    expect(chineseNumber(text)).toBe(value);
  });

  it('returns null for text that is not a numeral', () => {
    expect(chineseNumber('')).toBeNull();
    expect(chineseNumber('水')).toBeNull();
    expect(chineseNumber('一件')).toBeNull();
  });
});
