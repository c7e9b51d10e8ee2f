import { describe, expect, it } from 'vitest';
import { loadKnowledge } from '../../src/knowledge/index.js';
import { createClassifier, denseDocs, fuseDense } from '../../src/nlu/index.js';

describe('dense fusion', () => {
  const ranked = [
    { key: 'item:a' as const, score: 10, coverage: 0.5 },
    { key: 'item:b' as const, score: 9.5, coverage: 0.5 },
  ];

  it('leaves the lexical ranking alone without dense hits', () => {
    expect(fuseDense(ranked, [])).toEqual(ranked);
  });

  it('lets a strong dense match overturn a close lexical lead', () => {
    const fused = fuseDense(ranked, [{ key: 'item:b', score: 0.9 }, { key: 'item:a', score: 0.2 }]);
    expect(fused.map((c) => c.key)).toEqual(['item:b', 'item:a']);
  });

  it('adds dense-only candidates below a clear lexical winner, with no coverage', () => {
    const fused = fuseDense([{ key: 'item:a', score: 30, coverage: 0.8 }], [{ key: 'item:c', score: 0.9 }]);
    expect(fused[0]!.key).toBe('item:a');
    expect(fused[1]).toMatchObject({ key: 'item:c', coverage: 0 });
  });

  it('builds one dense document per item and flow, and the classifier accepts a dense ranking', () => {
    const kb = loadKnowledge();
    const docs = denseDocs(kb);
    expect(docs).toHaveLength(kb.items.size + kb.flows.size);
    const c = createClassifier(kb);
    // A vague message: the dense side's favourite moves up the ranking.
    const text = '水的颜色不太对劲，有点担心';
    const lexical = c.classify(text).candidates;
    const pushed = lexical[2]!;
    const u = c.classify(text, undefined, [{ key: pushed, score: 0.95 }]);
    expect(u.candidates.indexOf(pushed)).toBeLessThan(2);
  });
});
