// Compares segmentation with the full and the trimmed jieba dictionary on the fixtures: knowledge-vocabulary words per message.
//   npx tsx scripts/compare-segmentation.ts
import { loadKnowledge } from '../src/knowledge/index.js';
import { Analyzer } from '../src/nlu/index.js';
import { dictionaryFor, knowledgeText } from '../src/nlu/dictionary.js';
import { readFixtures } from './fixtures.js';
const kb = loadKnowledge();
const full = new Analyzer(kb.synonyms, kb.intents.stopwords);
const trim = new Analyzer(kb.synonyms, kb.intents.stopwords, [], dictionaryFor(kb));
const vocab = new Set(full.analyze(knowledgeText(kb)).words);
let same = 0, diff = 0, segSame = 0;
const fx = readFixtures();
for (const f of fx) {
  const a = full.analyze(f.text).words.filter((w) => vocab.has(w)).join('|');
  const b = trim.analyze(f.text).words.filter((w) => vocab.has(w)).join('|');
  if (a === b) same++; else { diff++; if (diff <= 8) console.log('DIFF', f.text.slice(0, 40), '\n  full:', a, '\n  trim:', b); }
  if (full.segment(full.clean(f.text)).join('|') === trim.segment(trim.clean(f.text)).join('|')) segSame++;
}
console.log(`fixtures ${fx.length}: knowledge-vocabulary words identical ${same}, different ${diff}; whole segmentation identical ${segSame}`);
