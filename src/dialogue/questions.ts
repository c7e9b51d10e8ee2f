import type { Flow, Question } from '../knowledge/index.js';
import { holds } from './flow-logic.js';
import { displayValue, type SlotValue } from './slots.js';
import { compact, compactName } from './compact.js';

type Answers = Record<string, SlotValue>;

/** Drops answers to questions that no longer apply (after an earlier answer changed). */
export function prune(flow: Flow, answers: Answers): Answers {
  const kept: Answers = {};
  for (const q of flow.questions) if (q.id in answers && holds(q.when, kept)) kept[q.id] = answers[q.id]!;
  return kept;
}

/** The first question that applies and has no answer yet, or null when all are answered. */
export function nextQuestion(flow: Flow, answers: Answers): Question | null {
  for (const q of flow.questions) if (!(q.id in answers) && holds(q.when, answers)) return q;
  return null;
}

/** The question with this id. */
export function questionById(flow: Flow, id: string | null | undefined): Question | undefined {
  return id ? flow.questions.find((q) => q.id === id) : undefined;
}

/** The answers as display rows, masked. */
export function summaryFields(flow: Flow, answers: Answers): { label: string; value: string }[] {
  return flow.questions.filter((q) => q.id in answers).map((q) => ({ label: q.label, value: answers[q.id] === '' ? '待补充' : displayValue(q, answers[q.id]!) }));
}

/** Finds the question a user means by "改一下地址" / "电话填错了", among `among` (default: the answered ones). */
export function questionNamedIn(flow: Flow, answers: Answers, text: string, among?: Question[]): Question | undefined {
  const s = compact(text);
  const candidates = among ?? flow.questions.filter((q) => q.id in answers);
  let best: { q: Question; len: number } | undefined;
  for (const q of candidates)
    for (const name of [q.label, ...q.labelAliases]) {
      const n = compactName(name);
      if (n && s.includes(n) && (!best || n.length > best.len)) best = { q, len: n.length };
    }
  return best?.q;
}

/** Whether a question may be left for later ("跳过，稍后补充"): set in the flow, else personal details that steer nothing. */
export function skippable(q: Question): boolean {
  return q.skippable ?? ['id-card', 'uscc', 'account-number', 'address', 'name', 'text'].includes(q.type);
}
