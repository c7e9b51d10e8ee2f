import type { QuickReply } from '../core/index.js';
import type { DialogueResult, DialogueState } from './types.js';

/** Buttons that act anywhere (a guide, a flow, a person): they name no prompt. */
const NAVIGATION = /^(item:|flow:|apply:|handoff(:|$)|continue$|resume$)/;

/** Whether a button answers the question that shows it (and so must name its prompt). */
export function isAnswerPayload(payload: string): boolean {
  return !NAVIGATION.test(payload) && !payload.startsWith('p:');
}

/** A postback that names its prompt: `p:<promptId>:<value>`. */
export function parsePrompted(payload: string): { id: number; value: string } | null {
  const m = /^p:(\d{1,9}):(.+)$/s.exec(payload);
  return m ? { id: Number(m[1]), value: m[2]! } : null;
}

/** What was asked: the question or phase, and the answers offered; asking the same again keeps the prompt id. */
function keyOf(state: DialogueState, answers: QuickReply[]): string {
  const where = state.mode === 'flow' ? `${state.flow.id}:${state.flow.phase}:${state.flow.questionId ?? ''}:${state.flow.switchTo ?? ''}` : state.mode;
  return `${where}|${answers.map((q) => q.postback).join('|')}`;
}

/**
 * Names the prompt on every answer button of a result (`yes` → `p:7:yes`) and records it in the state, so a button
 * pressed later is applied only while its question is still the one asked. A result without answer buttons leaves
 * none live.
 */
export function stampPrompts(result: DialogueResult): DialogueResult {
  const answers = result.replies.flatMap((r) => r.quickReplies ?? []).filter((q) => isAnswerPayload(q.postback));
  const prev = result.state.prompt;
  if (!answers.length) {
    // Replies with no buttons at all (an effect still running) keep the prompt; a new question without buttons ends it.
    if (!result.replies.length || !prev) return result;
    return { ...result, state: { ...result.state, prompt: { id: prev.id, key: '' } } };
  }
  const key = keyOf(result.state, answers);
  const id = prev && prev.key === key ? prev.id : (prev?.id ?? 0) + 1;
  const replies = result.replies.map((r) =>
    r.quickReplies ? { ...r, quickReplies: r.quickReplies.map((q) => (isAnswerPayload(q.postback) ? { ...q, postback: `p:${id}:${q.postback}` } : q)) } : r,
  );
  return { ...result, replies, state: { ...result.state, prompt: { id, key } } };
}

/** Whether a prompted postback belongs to the prompt on screen. */
export function isLive(state: DialogueState, id: number): boolean {
  return !!state.prompt && state.prompt.key !== '' && state.prompt.id === id;
}
