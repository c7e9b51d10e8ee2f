import type { DialogueState } from '../dialogue/index.js';

/** Default idle time after which an unfinished flow's answers are dropped (FLOW_ABANDON_MINUTES). */
export const FLOW_ABANDON_MINUTES = 60;

/** What the user is told, once, on the first message after an abandoned flow was cleared. */
export const FLOW_ABANDONED_NOTICE = '您上次未完成的办理已较长时间没有继续。为保护您的个人信息，已填写的内容已清除，没有提交任何申请。如需办理，请重新开始。';

/** The result of `abandonStaleFlow`: the state to use and whether a flow was dropped. */
export interface AbandonResult<S> {
  state: S;
  abandoned: boolean;
}

/**
 * Drops the application in progress of a session idle longer than `abandonMinutes` since `updatedAt`, so raw answers
 * do not linger: a flow-mode state goes back to the bot, a handed-over one loses the application it kept to resume.
 */
export function abandonStaleFlow(state: DialogueState, now: Date, opts: { updatedAt?: string; abandonMinutes?: number }): AbandonResult<DialogueState> {
  const minutes = opts.abandonMinutes ?? FLOW_ABANDON_MINUTES;
  const last = opts.updatedAt ? Date.parse(opts.updatedAt) : NaN;
  const holds = state.mode === 'flow' || ((state.mode === 'handoff' || state.mode === 'agent') && state.suspended !== undefined);
  if (!holds || !Number.isFinite(last) || !(minutes > 0) || now.getTime() - last <= minutes * 60_000) return { state, abandoned: false };
  if (state.mode === 'flow') {
    const { flow: _dropped, ...rest } = state;
    return { state: { ...rest, mode: 'bot' }, abandoned: true };
  }
  const { suspended: _dropped, ...rest } = state as Extract<DialogueState, { mode: 'handoff' | 'agent' }>;
  return { state: rest, abandoned: true };
}
