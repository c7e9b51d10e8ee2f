import { loadKnowledge } from '../src/knowledge/index.js';
import { createClassifier } from '../src/nlu/index.js';
const kb = loadKnowledge(); const c = createClassifier(kb);
const lines = (await import('node:fs')).readFileSync(0, 'utf8').split('\n').filter(Boolean);
for (const t of lines) { const u = c.classify(t); console.log(t, '→', u.decision, u.itemId ?? u.flowId ?? '', u.aspect ?? '', u.options?.join(',') ?? '', u.scopeTopic ?? '', u.urgent ? 'URGENT' : '', '| cands', u.candidates.slice(0,3).join(',')); }
