import { answerItem, lookupResult, understood, welcome } from './bot.js';
import { interpret, type Command } from './commands.js';
import * as flows from './flow-dialogue.js';
import { handoff } from './handoff.js';
import { done, toBot } from './result.js';
import { STATE_VERSION, type DialogueContext, type DialogueInput, type DialogueResult, type DialogueState, type FlowModeState, type FlowState } from './types.js';

/** A fresh state for a new conversation. */
export function initialState(): DialogueState {
  return { v: STATE_VERSION, mode: 'bot', fallbacks: 0, applications: [] };
}

/** A version-1 flow: `stepId` and `history` were renamed `questionId` and `answered`. */
type V1Flow = Partial<FlowState> & { stepId?: string | null; history?: string[] };

/** Brings a stored state of an older version up to date. */
export function migrate(stored: unknown): DialogueState {
  if (!stored || typeof stored !== 'object') return initialState();
  const old = stored as Record<string, unknown> & { v?: number; mode?: string; flow?: V1Flow; handoffReason?: string };
  if (old.v === STATE_VERSION) return old as unknown as DialogueState;
  // Version 1: one shape with `mode`, an optional `flow` and optional `handoffReason`.
  const { flow: oldFlow, handoffReason, mode, lookupRef, ...rest } = old;
  const base = { ...initialState(), ...(rest as object), v: STATE_VERSION } as DialogueState;
  if (mode === 'flow' && oldFlow?.id) {
    const { stepId, history, ...f } = oldFlow;
    const flow: FlowState = { answers: {}, phase: 'asking', editing: false, ...f, id: oldFlow.id, questionId: f.questionId ?? stepId ?? null, answered: f.answered ?? history ?? [] };
    return { ...toBot(base), mode: 'flow', flow };
  }
  if (mode === 'handoff' || mode === 'agent') return { ...toBot(base), mode, handoffReason: (handoffReason as never) ?? 'unknown' };
  return toBot(base, { mode: mode === 'closed' ? 'closed' : 'bot', ...(typeof lookupRef === 'string' ? { lookupRef } : {}) });
}

/** The dialogue engine: a pure function from state and input to replies, next state and effects. The input state is never changed. */
export function step(ctx: DialogueContext, state: DialogueState, input: DialogueInput): DialogueResult {
  switch (input.kind) {
    case 'start':
      return done(state, welcome(ctx));
    case 'application-created':
      return flows.finishApplication(ctx, state, input.application);
    case 'lookup-result':
      return lookupResult(ctx, state, input.application);
    case 'postback':
    case 'text':
      return execute(ctx, state, interpret(ctx, state, input));
  }
}

/** Carries out one command. */
function execute(ctx: DialogueContext, s: DialogueState, cmd: Command): DialogueResult {
  switch (cmd.kind) {
    case 'resume-bot':
      return done(toBot(s), { text: '好的，已回到智能客服。请问还有什么可以帮您？' });
    case 'silent':
      // While a person has the conversation, the bot stays quiet after the first notice.
      return done(s);
    case 'handoff':
      return handoff(ctx, s, cmd.reason, cmd.note);
    case 'rephrase':
      return done(s, { text: '好的，请换个说法描述您的问题，例如“水费在哪交”“家里没水了”。' });
    case 'start-flow':
      return flows.startFlow(ctx, s, cmd.flowId);
    case 'show-item':
      return answerItem(ctx, s, cmd.itemId, cmd.aspect);
    case 'lookup':
      return { replies: [], state: toBot(s), effects: [{ type: 'lookup-application', ref: cmd.ref, mobile: cmd.mobile }] };
    case 'ask-lookup-mobile':
      return done(toBot(s, { lookupRef: cmd.ref }), { text: `请输入办件 ${cmd.ref} 申请时预留的手机号，我来帮您查询进度。` });
    case 'understood':
      return understood(ctx, s, cmd.u);
  }
  if (s.mode !== 'flow') return done(s);
  return executeInFlow(ctx, s, cmd);
}

function executeInFlow(ctx: DialogueContext, s: FlowModeState, cmd: Command): DialogueResult {
  switch (cmd.kind) {
    case 'cancel':
      return flows.cancel(s);
    case 'back':
      return flows.back(ctx, s);
    case 'edit-menu':
      return flows.editMenu(ctx, s);
    case 'edit': {
      const q = flows.flowOf(ctx, s).questions.find((x) => x.id === cmd.questionId)!;
      return flows.edit(ctx, s, q, cmd.text);
    }
    case 'answer': {
      const q = flows.currentQuestion(ctx, s);
      return q ? flows.accept(ctx, s, q, cmd.value) : flows.advance(ctx, s, []);
    }
    case 'invalid':
      return flows.invalid(ctx, s, cmd.reason);
    case 'side':
      return flows.sideAnswer(ctx, s, cmd.reply);
    case 'advance':
      return flows.advance(ctx, s, []);
    case 'wait':
      return done(s, { text: '正在提交，请稍候…' });
    case 'materials':
      return flows.materialsAnswer(ctx, s, cmd.missing);
    case 'commit':
      return flows.commitmentAnswer(ctx, s, cmd.accept);
    case 'submit':
      return flows.submit(ctx, s);
    case 'phase-again':
      return flows.phaseAgain(ctx, s, cmd.side);
    default:
      return done(s);
  }
}

export { statusText } from './bot.js';
