import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, DEFAULT_CALIBRATION, splitClauses, syllables, type Classifier } from '../../src/nlu/index.js';
import { decideCalibrated, DEFAULT_THRESHOLDS } from '../../src/nlu/decide.js';
import { readFixtures, score } from '../../scripts/fixtures.js';

let kb: KnowledgeBase;
let c: Classifier;

beforeAll(() => {
  kb = loadKnowledge();
  c = createClassifier(kb);
});

describe('long messages: the asking part', () => {
  it('finds the question at the end of a story', () => {
    const s = splitClauses('我家住在三楼，上个月刚搬进来。物业说水表归你们管。请问水表能挪到门外吗？', kb.intents.asking);
    expect(s.asks).toEqual(['请问水表能挪到门外吗？']);
    expect(s.context).toEqual(['我家住在三楼，上个月刚搬进来。', '物业说水表归你们管。']);
  });

  it('takes the last sentence when nothing asks', () => {
    const s = splitClauses('我们这栋楼的住户都很着急。家里老人小孩都在等。水表的事希望尽快安排人来看看', []);
    expect(s.asks).toEqual(['水表的事希望尽快安排人来看看']);
  });

  it('keeps a short message whole', () => {
    expect(splitClauses('过户要带什么？', kb.intents.asking).asks).toEqual(['过户要带什么？']);
  });

  it('ranks on the ask, not on the story around it', () => {
    const text = '上个月我刚办完过户，户名也改好了，营业厅的人态度也不错，过户流程很顺利。现在想问一下，厨房里的水表能不能挪到门外面去？';
    const u = c.classify(text);
    expect(u.candidates[0]).toBe('item:meter-relocate');
    expect(u.decision).not.toBe('fallback');
  });

  it('answers the first of two asks and offers the second', () => {
    const u = c.classify('过户要带什么材料？另外，开发票在哪里开？');
    expect(u.decision).toBe('answer');
    expect(u.itemId).toBe('transfer-ownership');
    expect(u.secondAsk).toBe('item:invoice');
  });
});

describe('pinyin typed without an IME', () => {
  it('splits latin runs into syllables', () => {
    expect(syllables('shuibiao')).toEqual(['shui', 'biao']);
    expect(syllables('shuǐbiǎo')).toEqual(['shui', 'biao']);
    expect(syllables('shui3biao3')).toEqual(['shui', 'biao']);
    expect(syllables('water')).toBeNull();
  });

  it.each([
    ['guohu yao dai shenme cailiao', 'transfer-ownership'],
    ['gǎi hù míng', 'rename-account'],
    ['tíng shuǐ tōng zhī zài nǎr kàn', 'outage-notice'],
  ])('%s → %s', (text, item) => {
    const u = c.classify(text);
    expect(u.pinyin).toBe(true);
    expect(u.decision).toBe('answer');
    expect(u.itemId).toBe(item);
  });

  it('reads pinyin mixed with characters', () => {
    const u = c.classify('我家shuibiao坏了');
    expect(u.pinyin).toBe(true);
    expect(u.lang).toBe('zh');
    expect(u.decision).not.toBe('fallback');
    expect(u.named).toContain('item:repair-report');
  });
});

describe('English', () => {
  it('reads an English question and says so', () => {
    const u = c.classify('How do I transfer the water account after buying a second-hand flat?');
    expect(u.lang).toBe('en');
    expect(u.candidates.slice(0, 2)).toContain('item:transfer-ownership');
    expect(u.decision).not.toBe('fallback');
  });

  it('hands off an English request for a person', () => {
    const u = c.classify('human agent please');
    expect(u.decision).toBe('handoff');
    expect(u.handoffReason).toBe('asked');
    expect(u.lang).toBe('en');
  });

  it('keeps Chinese as zh', () => {
    expect(c.classify('过户要带什么').lang).toBe('zh');
  });
});

describe('urgency, complaints and requests in narratives', () => {
  it('hands off an outage of days with an elderly resident, with the guide beside it', () => {
    const u = c.classify(
      '尊敬的领导您好，我是洪山区某小区的住户，我们这栋楼从上周五开始就一直没水，已经五天了，家里还有80岁的老人，打了热线说在处理但一直没人来，请问到底什么时候能恢复供水？',
    );
    expect(u.decision).toBe('handoff');
    expect(u.handoffReason).toBe('urgent');
    expect(u.priority).toBe(1);
    expect(u.urgent).toBe(true);
    expect(u.alsoItem).toBeDefined();
    expect(kb.items.has(u.alsoItem!)).toBe(true);
  });

  it('hands off a repeated complaint (priority 2) with the guide it is about', () => {
    const u = c.classify('我家水压低的问题在热线反映了多次，每次都说会处理，到现在一个多月了还是老样子，根本没人管，你们到底管不管？');
    expect(u.decision).toBe('handoff');
    expect(u.handoffReason).toBe('complaint');
    expect(u.priority).toBe(2);
    expect(u.alsoItem).toBeDefined();
  });

  it('ranks the reasons urgent > complaint > asked', () => {
    expect(c.classify('转人工').priority).toBe(3);
    expect(c.classify('水管爆了到处都是水，我要投诉，转人工').handoffReason).toBe('urgent');
  });

  it('reads an ID code as one token: the "12345" inside a 统一社会信用代码 is not the complaints hotline', () => {
    const u = c.classify('91420100MA4K12345K');
    expect(u.itemId).not.toBe('complaint');
    expect(u.decision).not.toBe('handoff');
    expect(c.classify('打12345投诉').handoffReason).toBe('complaint');
  });

  it('starts the flow a statement names by its situation word, but not for a question', () => {
    expect(c.classify('我在江汉区开个奶茶店，要新装水表，DN25')).toMatchObject({ decision: 'flow', flowId: 'open-business' });
    expect(c.classify('装修完了怎么恢复用水').decision).not.toBe('flow');
  });

  it('spans a flow whose items are named with a measure word in between (水表挪个位置 + 报停)', () => {
    expect(c.classify('想把水表挪个位置，装修期间先报停')).toMatchObject({ decision: 'flow', flowId: 'renovation' });
  });

  it('answers a question about how to complain without a hand-off', () => {
    const u = c.classify('投诉电话是多少');
    expect(u.decision).not.toBe('handoff');
    expect(u.candidates[0]).toBe('item:complaint');
  });
});

describe('calibrated decision', () => {
  const ranked = [
    { key: 'item:water-quality' as const, score: 1, coverage: 0.3 },
    { key: 'item:repair-report' as const, score: 0.8, coverage: 0.2 },
    { key: 'item:outage-notice' as const, score: 0.5, coverage: 0.1 },
  ];
  const opts = { flowCue: false, multiFlow: null, thresholds: DEFAULT_THRESHOLDS, calibration: DEFAULT_CALIBRATION, flowItems: () => [] };

  it('clarifies instead of falling back when water words and candidates exist', () => {
    const d = decideCalibrated(ranked, { ...opts, confidence: 0.01, domain: true });
    expect(d.decision).toBe('clarify');
    expect(d.decision === 'clarify' && d.keys.length).toBeGreaterThanOrEqual(2);
  });

  it('falls back when nothing of ours is there', () => {
    expect(decideCalibrated(ranked, { ...opts, confidence: 0.01, domain: false }).decision).toBe('fallback');
  });

  it('answers when confident', () => {
    expect(decideCalibrated(ranked, { ...opts, confidence: 0.99, domain: true })).toEqual({ decision: 'answer', key: 'item:water-quality' });
  });

  it('never gives a bare fallback to a vague water message', () => {
    for (const text of ['水好浑', '水表那个事', '我家的水不对劲']) expect(c.classify(text).decision, text).not.toBe('fallback');
  });

  it('loads the fitted calibration', () => {
    const cal = JSON.parse(readFileSync('src/nlu/calibration.json', 'utf8'));
    expect(cal.fittedOn).toMatch(/calib split/);
    expect(cal.weights.length).toBe(DEFAULT_CALIBRATION.weights.length);
  });
});

describe('gratitude and closings', () => {
  it.each([
    ['感谢你们水务集团的维修师傅，上周我家门口水管坏了，他们冒雨连夜抢修，非常负责，特此表扬！'],
    ['没事了，再见'],
    ['你 好'],
    ['谢谢你姑娘'],
    ['不用了，拜拜'],
  ])('%s is smalltalk', (text) => {
    const u = c.classify(text);
    expect(u.decision).toBe('smalltalk');
    expect(u.itemId).toBeNull();
  });

  it('still answers a question after thanks', () => {
    const u = c.classify('谢谢，过户要带什么');
    expect(u.decision).toBe('answer');
    expect(u.itemId).toBe('transfer-ownership');
  });
});

describe('issue 7: fresh-conversation questions get the right guide and aspect', () => {
  it('水电费能一起交吗 gets the electricity scope reply (95598, from data)', () => {
    const u = c.classify('水电费能一起交吗');
    expect(u.decision).toBe('fallback');
    expect(u.scopeTopic).toBe('电力');
    expect(kb.intents.outOfScope.find((t) => t.topic === u.scopeTopic)?.reply).toContain('95598');
  });

  it('装修完了怎么恢复用水 is about 复水, not a new renovation flow', () => {
    const u = c.classify('装修完了怎么恢复用水');
    expect(u.decision).not.toBe('flow');
    expect(u.candidates[0]).toBe('item:suspend-resume');
  });

  it('网上能办哪些业务 is the online channels guide', () => {
    const u = c.classify('网上能办哪些业务');
    expect(u.decision).toBe('answer');
    expect(u.itemId).toBe('online-channels');
  });

  it('零跑腿的业务占多少 points at the online channels guide', () => {
    expect(c.classify('零跑腿的业务占多少').candidates[0]).toBe('item:online-channels');
  });

  it('优惠力度是多少，能减多少钱 is not about application fees', () => {
    const u = c.classify('优惠力度是多少，能减多少钱');
    expect(u.aspect).not.toBe('fees');
    expect(u.itemId).toBe('discount-sme');
  });

  it('a doubled bill is a reading dispute, not a time limit', () => {
    const u = c.classify('这个月水费突然翻了一倍，是不是抄错了');
    expect(u.itemId).toBe('meter-reading-dispute');
    expect(u.aspect).not.toBe('timeLimit');
  });

  it('how often the tank is cleaned is the FAQ, not the repair time limit', () => {
    const u = c.classify('小区二次供水水箱多久清洗一次');
    expect(u.itemId).toBe('secondary-supply');
    expect(u.aspect).not.toBe('timeLimit');
    expect(u.faq).toBeTypeOf('number');
  });

  it('居民家里装水表要多少钱 ranks the residential connection first', () => {
    expect(c.classify('居民家里装水表要多少钱').candidates[0]).toBe('item:connect-residential');
  });
});

describe('decision safeguards', () => {
  it('a homophone fix never changes a function character or cuts into a real word', () => {
    expect(c.classify('水好浑').itemId).toBe('water-quality');
    expect(c.classify('网上能办哪些业务').itemId).toBe('online-channels');
    expect(c.classify('过护要带什么').itemId).toBe('transfer-ownership');
  });

  it('a top that nothing but a weak lexical match supports is offered, never answered', () => {
    const u = c.classify('过几天吧');
    expect(u.decision).not.toBe('answer');
    expect(u.confidence).toBeLessThanOrEqual(0.3);
  });

  it('another city or business mentioned in the story of a long message is not what it asks', () => {
    const story = '我家房子常年没人住，我在外地上海工作，一年才回来一次。每个月还有些零碎的水费，想先停掉，等回来再开。这个报停需要本人到场吗？';
    const u = c.classify(story);
    expect(u.scopeTopic).toBeUndefined();
    expect(u.candidates[0]).toBe('item:suspend-resume');
    expect(c.classify('上海的自来水怎么报停？').scopeTopic).toBeDefined();
  });

  it('dialect words read through the typo table: 几多钱 asks the fee, 常年没人住 is a suspension', () => {
    const fee = c.classify('过户要几多钱');
    expect([fee.itemId, fee.aspect]).toEqual(['transfer-ownership', 'fees']);
    expect(c.classify('房子常年没人住，水费咋整').candidates[0]).toBe('item:suspend-resume');
  });

  it('an ask with nothing of ours in it is ranked on the whole story', () => {
    const u = c.classify('早上接水洗菜，发现自来水发黄还有一股铁锈味，烧开了也一样，家里老人孩子都不敢喝。请问这是怎么回事，该找谁？');
    expect(u.candidates[0]).toBe('item:water-quality');
  });
});

describe('fixture bars per split', () => {
  const fixtures = readFixtures();
  it.each([
    ['calib', 0.96, 0.015],
    ['frozen', 0.92, 0.025],
  ] as const)('%s split: accuracy ≥ %s, confidently wrong ≤ %s', (split, acc, wrong) => {
    const rows = fixtures.filter((f) => f.split === split).map((f) => ({ expect: f.expect, u: c.classify(f.text) }));
    expect(rows.length).toBeGreaterThan(100);
    const s = score(kb, rows);
    expect(s.accuracy).toBeGreaterThanOrEqual(acc);
    expect(s.confidentlyWrong).toBeLessThanOrEqual(wrong);
  });
});

describe('no city or hotline literal in the understanding', () => {
  it.each(['src/nlu', 'src/knowledge'])('%s names neither the city nor the hotline', (dir) => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.includes('武汉') || text.includes('96510'), `${dir}/${f}`).toBe(false);
    }
  });
});
