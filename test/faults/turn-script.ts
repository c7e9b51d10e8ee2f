// The dialogue the whole-turn fault tests drive: a demolition flow with real-format numbers, ending in a submit.
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import type { KnowledgeBase } from '../../src/knowledge/index.js';
import type { Classifier } from '../../src/nlu/index.js';
import { createMemoryStores } from '../../src/store/index.js';

/** Completes 17 digits with the GB 11643 check character. */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11];
}

/** One message of the script, as the HTTP body carries it. */
export type Step = { text: string } | { postback: string };

/** Start a demolition flow, answer every question, confirm (the last step submits). */
export const STEPS: Step[] = [
  { postback: 'flow:demolition' },
  { text: '1002345678' },
  { text: '张三' },
  { text: idNumber('42010219850715003') },
  { text: '13912345678' },
  { postback: 'yes' },
  { postback: 'no' },
  { text: '明天' },
  { postback: 'yes' },
  { postback: 'confirm' },
];

/** The applicant's mobile in the script. */
export const MOBILE = '13912345678';

/** A message as compared across runs: sender and text, the reference number normalised (a crash may burn one). */
export const shape = (m: Pick<Message, 'from' | 'text'>) => `${m.from}: ${m.text.replace(/WS\d{8}-\d{4,}/g, 'WS<ref>')}`;

/** What the script gives without faults: the welcome, then each step's replies, run on memory stores in-process. */
export async function reference(kb: KnowledgeBase, classifier: Classifier): Promise<{ welcome: string[]; replies: string[][]; history: string[] }> {
  const svc = createConversationService({ kb, classifier, stores: createMemoryStores(), logger: createLogger('silent') });
  const { conversationId, messages } = await svc.start();
  const replies: string[][] = [];
  for (const s of STEPS) replies.push((await svc.send(conversationId, s)).messages.map(shape));
  return { welcome: messages.map(shape), replies, history: (await svc.history(conversationId, 0, 500)).map(shape) };
}
