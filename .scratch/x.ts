import { readFileSync } from 'node:fs';
import { createConversationService } from '../src/conversation/index.js';
import { createLogger } from '../src/core/index.js';
import { loadKnowledge } from '../src/knowledge/index.js';
import { createClassifier } from '../src/nlu/index.js';
import { createMemoryStores } from '../src/store/index.js';
const kb = loadKnowledge(); const classifier = createClassifier(kb); const stores = createMemoryStores();
const now = process.env.NOW ? new Date(process.env.NOW) : new Date();
const service = createConversationService({ kb, classifier, stores, logger: createLogger('silent'), now: () => now });
const lines = readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
const { conversationId, messages } = await service.start();
let last = messages;
let ref = '';
for (const line of lines) {
  let input: any;
  if (line.startsWith('#')) { const t = line.slice(1).trim(); const b = last.at(-1)?.quickReplies?.find((q) => q.title === t) ?? last.at(-1)?.quickReplies?.[Number(t) - 1]; input = { postback: b?.postback ?? t }; }
  else if (line.startsWith('!')) input = { postback: line.slice(1) };
  else input = { text: line.replace('{{ref}}', ref) };
  const r = await service.send(conversationId, input);
  last = r.messages; if (r.state.applicationRef) ref = r.state.applicationRef;
  console.log(`\n>>> ${JSON.stringify(input)}   state=${JSON.stringify(r.state)}`);
  for (const m of r.messages) console.log(`  ${m.text.replace(/\n/g, '\n  ')}${m.card ? `\n  [card ${m.card.type}]` : ''}${m.quickReplies?.length ? `\n  buttons: ${m.quickReplies.map((q) => q.title).join(' | ')}` : ''}`);
}
if (ref && process.env.MOBILE) console.log(JSON.stringify(await service.findApplication(ref, process.env.MOBILE), null, 1));
