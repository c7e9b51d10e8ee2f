// Rewrites test/fixtures/decisions.jsonl from the current classifier: run it after a deliberate change to the
// knowledge, the calibration or the understanding, and review the diff (`git diff --word-diff`).
import { writeFileSync } from 'node:fs';
import { loadKnowledge } from '../src/knowledge/index.js';
import { createClassifier } from '../src/nlu/index.js';
import { decide, decisionsStamp, DECISIONS_PATH } from './decisions.js';

const kb = loadKnowledge();
const records = decide(kb, createClassifier(kb));
writeFileSync(DECISIONS_PATH, [JSON.stringify({ stamp: decisionsStamp(kb), n: records.length }), ...records.map((r) => JSON.stringify(r))].join('\n') + '\n');
console.log(`${records.length} decisions written to ${DECISIONS_PATH}`);
