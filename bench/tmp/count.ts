import { readFileSync } from 'node:fs';
const { loadKnowledge } = await import('../../src/knowledge/index.js');
const { createClassifier } = await import('../../src/nlu/index.js');
const { Analyzer } = await import('../../src/nlu/analyzer.js');
const homo = await import('../../src/nlu/homophones.js');
let calls = 0, cleans=0; const seen = new Set<string>();
const orig = Analyzer.prototype.analyze; Analyzer.prototype.analyze = function (t: string) { calls++; seen.add(t); return orig.call(this, t); };
const oc = Analyzer.prototype.clean; Analyzer.prototype.clean = function (t: string) { cleans++; return oc.call(this, t); };
const kb = loadKnowledge(); const c = createClassifier(kb);
const texts = readFileSync('test/fixtures/questions.jsonl','utf8').split('\n').filter(Boolean).map(l=>JSON.parse(l).text);
calls=0; cleans=0; let distinct=0;
for (const t of texts) { seen.clear(); c.classify(t); distinct += seen.size; }
console.log('analyze/msg', calls/texts.length, 'distinct/msg', distinct/texts.length, 'clean/msg', cleans/texts.length);
