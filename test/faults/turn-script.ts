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

/** A script line: a message, or a press of the answer button the last reply showed (`yes` → its `p:<prompt>:yes`). */
export type ScriptStep = Step | { button: string };

/**
 * Start a demolition flow, answer every question (a yes/no by button, one typed), confirm by button: the last step
 * submits. 拆迁 has no 可容缺 materials, so the summary follows the last question.
 */
export const STEPS: ScriptStep[] = [
  { postback: 'flow:demolition' },
  { text: '1002345678' },
  { text: '张三' },
  { text: idNumber('42010219850715003') },
  { text: '13912345678' },
  { button: 'yes' },
  { text: '否' },
  { text: '明天' },
  { button: 'confirm' },
];

/** The postback of the button `value` among the answer buttons of `replies`; throws when the last reply showed none. */
export function press(replies: Array<Pick<Message, 'quickReplies'>>, value: string): Step {
  const payloads = replies.flatMap((m) => m.quickReplies ?? []).map((q) => q.postback);
  const postback = payloads.find((p) => new RegExp(`^p:\\d+:${value}$`).test(p));
  if (!postback) throw new Error(`no "${value}" button among ${JSON.stringify(payloads)}`);
  return { postback };
}

/** The applicant's mobile in the script. */
export const MOBILE = '13912345678';

/** A message as compared across runs: sender and text, the reference number normalised (a crash may burn one). */
export const shape = (m: Pick<Message, 'from' | 'text'>) => `${m.from}: ${m.text.replace(/WS\d{8}-\d{4,}/g, 'WS<ref>')}`;

/**
 * What the script gives without faults, run on memory stores in-process: the welcome, each step's replies, and the
 * messages sent (buttons resolved to the postbacks shown), which the fault runs send as they are: a prompt id that
 * a fault or a retry changed makes the button stale there.
 */
export async function reference(kb: KnowledgeBase, classifier: Classifier): Promise<{ welcome: string[]; steps: Step[]; replies: string[][]; history: string[] }> {
  const svc = createConversationService({ kb, classifier, stores: createMemoryStores(), logger: createLogger('silent') });
  const { conversationId, messages } = await svc.start();
  const steps: Step[] = [];
  const replies: string[][] = [];
  let last: Message[] = messages;
  for (const s of STEPS) {
    const step = 'button' in s ? press(last, s.button) : s;
    last = (await svc.send(conversationId, step)).messages;
    steps.push(step);
    replies.push(last.map(shape));
  }
  return { welcome: messages.map(shape), steps, replies, history: (await svc.history(conversationId, 0, 500)).map(shape) };
}
