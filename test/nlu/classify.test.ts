import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { createClassifier, type Classifier, type Understanding } from '../../src/nlu/index.js';

interface Question {
  id: string;
  text: string;
  expect: string;
}

const questions: Question[] = readFileSync('test/fixtures/questions.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Question);

let kb: KnowledgeBase;
let classifier: Classifier;

beforeAll(() => {
  kb = loadKnowledge();
  classifier = createClassifier(kb);
});

/** Whether the understanding serves what the label asks for. */
function correct(expected: string, u: Understanding): boolean {
  if (expected.startsWith('item:')) {
    const id = expected.slice(5);
    return (u.decision === 'answer' && u.itemId === id) || (u.decision === 'flow' && (kb.flows.get(u.flowId ?? '')?.items ?? []).includes(id));
  }
  if (expected.startsWith('flow:')) return u.decision === 'flow' && u.flowId === expected.slice(5);
  if (expected === 'handoff') return u.decision === 'handoff';
  if (expected === 'out-of-scope') return u.decision === 'fallback' || u.decision === 'handoff';
  if (expected === 'smalltalk') return u.decision === 'smalltalk';
  throw new Error(`unknown label ${expected}`);
}

function describeUnderstanding(u: Understanding): string {
  const target = u.itemId ?? u.flowId ?? u.options?.join(',') ?? u.smalltalk ?? u.scopeTopic ?? '';
  return `${u.decision}${target ? ` ${target}` : ''}`;
}

const targetExists = (key: string) => {
  const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  return kind === 'item' ? kb.items.has(id) : kind === 'flow' ? kb.flows.has(id) : false;
};

describe('classifier on the labelled questions', () => {
  it('has a labelled set that covers every kind of label', () => {
    expect(questions.length).toBeGreaterThanOrEqual(200);
    const kinds = new Set(questions.map((q) => q.expect.split(':')[0]));
    expect([...kinds].sort()).toEqual(['flow', 'handoff', 'item', 'out-of-scope', 'smalltalk']);
    for (const q of questions) if (q.expect.includes(':')) expect(targetExists(q.expect), `${q.id} labels an unknown target ${q.expect}`).toBe(true);
  });

  it('is accurate (≥ 0.88) and rarely confidently wrong (≤ 0.04)', () => {
    const failures: string[] = [];
    let right = 0;
    let confidentlyWrong = 0;
    for (const q of questions) {
      const u = classifier.classify(q.text);
      if (correct(q.expect, u)) {
        right++;
        continue;
      }
      const confident = u.decision === 'answer' || u.decision === 'flow';
      if (confident) confidentlyWrong++;
      failures.push(`${confident ? '✗!' : '✗ '} ${q.id} ${q.text}  expected ${q.expect}, got ${describeUnderstanding(u)}`);
    }
    const accuracy = right / questions.length;
    const wrongRate = confidentlyWrong / questions.length;
    const report = `accuracy ${accuracy.toFixed(3)}, confidently wrong ${wrongRate.toFixed(3)} (${confidentlyWrong}/${questions.length}); failures (✗! = confidently wrong):\n${failures.join('\n')}`;
    expect(accuracy, report).toBeGreaterThanOrEqual(0.88);
    expect(wrongRate, report).toBeLessThanOrEqual(0.04);
  });
});

describe('classifier contract', () => {
  const extra = ['过户', '水费', '你好', '转人工', '电费怎么交', '一件事', '水', 'dn100', '报修', '我要开店'];

  it('returns at most 5 candidates, each an existing item or flow', () => {
    for (const text of [...questions.map((q) => q.text), ...extra]) {
      const u = classifier.classify(text);
      expect(u.candidates.length, text).toBeLessThanOrEqual(5);
      expect(new Set(u.candidates).size, text).toBe(u.candidates.length);
      for (const c of u.candidates) {
        expect(c, text).toMatch(/^(item|flow):/);
        expect(targetExists(c), `${text}: ${c}`).toBe(true);
      }
    }
  });

  it('fills exactly the fields its decision needs', () => {
    for (const text of [...questions.map((q) => q.text), ...extra]) {
      const u = classifier.classify(text);
      expect(typeof u.urgent, text).toBe('boolean');
      switch (u.decision) {
        case 'answer':
          expect(kb.items.has(u.itemId ?? ''), text).toBe(true);
          expect(u.flowId, text).toBeNull();
          break;
        case 'flow':
          expect(kb.flows.has(u.flowId ?? ''), text).toBe(true);
          expect(u.itemId, text).toBeNull();
          break;
        case 'clarify':
          expect(u.options?.length, text).toBeGreaterThanOrEqual(2);
          expect(u.options?.length, text).toBeLessThanOrEqual(4);
          for (const o of u.options ?? []) expect(targetExists(o), `${text}: ${o}`).toBe(true);
          break;
        case 'smalltalk':
          expect(kb.smalltalk.intents.map((i) => i.id), text).toContain(u.smalltalk);
          break;
        default:
          expect(u.itemId, text).toBeNull();
          expect(u.flowId, text).toBeNull();
      }
    }
  });

  it('is deterministic', () => {
    for (const q of questions.slice(0, 40)) {
      const a = classifier.classify(q.text);
      const b = classifier.classify(q.text);
      expect([b.decision, b.itemId, b.flowId, b.candidates]).toEqual([a.decision, a.itemId, a.flowId, a.candidates]);
    }
  });
});

describe('aspect detection', () => {
  it.each([
    ['过户要带什么', 'materials'],
    ['过户要多久', 'timeLimit'],
  ] as const)('%s → transfer-ownership, %s', (text, aspect) => {
    const u = classifier.classify(text);
    expect(u.decision).toBe('answer');
    expect(u.itemId).toBe('transfer-ownership');
    expect(u.aspect).toBe(aspect);
  });

  it('报装收费吗 asks about fees of connecting', () => {
    const u = classifier.classify('报装收费吗');
    expect(u.aspect).toBe('fees');
    expect(u.candidates[0]).toMatch(/^item:connect-/);
  });

  it.each([
    ['过户要准备哪些材料', 'materials'],
    ['过户需要几个工作日', 'timeLimit'],
    ['过户收不收钱', 'fees'],
    ['过户能在网上办吗', 'channels'],
    ['过户有什么条件', 'conditions'],
    ['过户的流程是什么', 'steps'],
    ['我家水管漏了', null],
  ] as const)('%s → %s', (text, aspect) => {
    expect(classifier.classify(text).aspect).toBe(aspect);
    expect(classifier.aspectOf(text)).toBe(aspect);
  });

  it('reads the aspect of a follow-up that names no service', () => {
    expect(classifier.aspectOf('那要带什么')).toBe('materials');
    expect(classifier.aspectOf('多少钱')).toBe('fees');
    expect(classifier.aspectOf('要几天')).toBe('timeLimit');
  });
});

describe('hand-off, smalltalk, scope and urgency', () => {
  it('hands off when a person is asked for, but not for 人工智能', () => {
    expect(classifier.classify('转人工').decision).toBe('handoff');
    expect(classifier.classify('我要找人工客服').decision).toBe('handoff');
    expect(classifier.classify('人工').decision).toBe('handoff');
    expect(classifier.classify('你们是人工智能吗').decision).not.toBe('handoff');
  });

  it('recognises greetings and thanks', () => {
    expect(classifier.classify('你好').smalltalk).toBe('greet');
    expect(classifier.classify('谢谢！').smalltalk).toBe('thanks');
    // A greeting followed by a question is the question.
    const u = classifier.classify('你好，过户要带什么');
    expect(u.decision).toBe('answer');
    expect(u.itemId).toBe('transfer-ownership');
  });

  it('sends other utilities away with a topic', () => {
    const u = classifier.classify('电费怎么交');
    expect(u.decision).toBe('fallback');
    expect(u.scopeTopic).toBe('电力');
  });

  it('flags emergencies as urgent', () => {
    expect(classifier.classify('水管爆了，家里到处都是水').urgent).toBe(true);
    expect(classifier.classify('过户要带什么').urgent).toBe(false);
  });

  it('understands traditional characters and homophone typos', () => {
    for (const text of ['過戶要帶什麼', '过护要带什么', '锅户要带什么']) {
      const u = classifier.classify(text);
      expect(u.decision, text).toBe('answer');
      expect(u.itemId, text).toBe('transfer-ownership');
    }
  });
});

describe('bad input', () => {
  const cases: [string, string][] = [
    ['empty', ''],
    ['blank', '   '],
    ['10,000 characters of 水', '水'.repeat(10_000)],
    ['only emoji', '😀😀😀'],
    ['a script tag', '<script>alert(1)</script>'],
    ['mixed English', 'how to pay water bill 水费'],
    ['control characters', '\u0000\uFFFF'],
    ['an 18-digit ID number', '420106199001011234'],
    ['an 18-digit number', '123456789012345678'],
    ['lone surrogates', '\uD800\uDFFF\uD800'],
    ['only punctuation', '？？？！！！。。。'],
  ];

  it.each(cases)('%s gets a decision without throwing', (_, text) => {
    const u = classifier.classify(text);
    expect(['answer', 'clarify', 'flow', 'handoff', 'smalltalk', 'fallback']).toContain(u.decision);
    expect(u.candidates.length).toBeLessThanOrEqual(5);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['😀😀😀', 'emoji'],
    ['\u0000\uFFFF', 'control characters'],
    ['？？？！！！。。。', 'punctuation'],
  ])('%j (%s) falls back with no candidates', (text) => {
    const u = classifier.classify(text);
    expect(u.decision).toBe('fallback');
    expect(u.candidates).toEqual([]);
  });

  it('does not confidently answer a message with no content', () => {
    for (const text of ['水'.repeat(10_000), '<script>alert(1)</script>', '420106199001011234', '123456789012345678']) {
      expect(['answer', 'flow'], text.slice(0, 20)).not.toContain(classifier.classify(text).decision);
    }
  });

  it('reads through HTML tags', () => {
    const u = classifier.classify('<b>过户</b>要带什么');
    expect(u.decision).toBe('answer');
    expect(u.itemId).toBe('transfer-ownership');
    expect(u.aspect).toBe('materials');
  });

  it('ranks water-bill services for mixed English and Chinese', () => {
    const u = classifier.classify('how to pay water bill 水费');
    expect(u.candidates.slice(0, 3).some((c) => c === 'item:payment-channels' || c === 'item:bill-query')).toBe(true);
  });

  it('reads only the start of a very long message', () => {
    const u = classifier.classify(`过户要带什么${'。'.repeat(5_000)}${'开发票'.repeat(2_000)}`);
    expect(u.itemId).toBe('transfer-ownership');
  });
});
