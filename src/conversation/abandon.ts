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
 * Drops the flow of a session idle longer than `abandonMinutes` since `updatedAt`, so raw answers do not linger.
 * It only resets fields it knows (`flow`, and `mode: 'flow'` back to `bot`); whatever else the engine keeps is left as is,
 * so a change of the engine's state shape elsewhere costs at most a missed reset, never a broken state.
 */
export function abandonStaleFlow<S extends Pick<DialogueState, 'mode'> & { flow?: unknown }>(state: S, now: Date, opts: { updatedAt?: string; abandonMinutes?: number }): AbandonResult<S> {
  const minutes = opts.abandonMinutes ?? FLOW_ABANDON_MINUTES;
  const last = opts.updatedAt ? Date.parse(opts.updatedAt) : NaN;
  const inFlow = state.flow !== undefined && state.flow !== null;
  if (!inFlow || !Number.isFinite(last) || !(minutes > 0) || now.getTime() - last <= minutes * 60_000) return { state, abandoned: false };
  const { flow: _dropped, ...rest } = state;
  return { state: { ...rest, mode: state.mode === 'flow' ? 'bot' : state.mode } as S, abandoned: true };
}
