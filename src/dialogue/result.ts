import type { Reply } from '../core/index.js';
import type { BotState, DialogueResult, DialogueState } from './types.js';

/** A result with replies and no effects. */
export function done(state: DialogueState, ...replies: Reply[]): DialogueResult {
  return { replies, state, effects: [] };
}

/** The fields every state shape carries. */
export function common(s: DialogueState): Omit<BotState, 'mode'> {
  return { v: s.v, itemId: s.itemId, aspect: s.aspect, fallbacks: s.fallbacks, applications: s.applications, prompt: s.prompt, ...(s.lastFlowId ? { lastFlowId: s.lastFlowId } : {}), ...(s.lastSeen ? { lastSeen: s.lastSeen } : {}), ...(s.lang ? { lang: s.lang } : {}) };
}

/** The state back with the bot, keeping the conversation's memory (guide, applications). */
export function toBot(s: DialogueState, extra: Partial<BotState> = {}): BotState {
  return { ...common(s), mode: 'bot', ...extra };
}
