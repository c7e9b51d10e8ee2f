import { answerItem, lookupResult, understood, welcome } from './bot.js';
import { interpret, type Command } from './commands.js';
import { englishUi, fill, turnLang } from './english.js';
import * as flows from './flow-dialogue.js';
import * as moves from './flow-moves.js';
import { handoff, handoffNotice } from './handoff.js';
import { stampPrompts } from './prompts.js';
import { shortTitle } from './render.js';
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
export function step(outer: DialogueContext, state: DialogueState, input: DialogueInput): DialogueResult {
  const lang = turnLang(outer, state, input);
  const ctx: DialogueContext = { ...outer, lang };
  const result = flowInChinese(ctx, state, run(ctx, state, input));
  if (input.kind !== 'text' && input.kind !== 'postback') return stampLang(stampPrompts(result));
  const seen = { ...result.state, lastSeen: ctx.now.toISOString(), ...(input.kind === 'text' ? { lang } : {}) } as DialogueState;
  return stampLang(stampPrompts({ ...result, state: seen, replies: [...welcomeBack(ctx, state, result), ...result.replies] }));
}

/** Every reply says its language: replies not written in English are Chinese. */
function stampLang(result: DialogueResult): DialogueResult {
  return { ...result, replies: result.replies.map((r) => ({ ...r, lang: r.lang ?? 'zh' })) };
}

/** An application started in English: its form stays Chinese (slots are validated in Chinese), and its first reply says so first. */
function flowInChinese(ctx: DialogueContext, before: DialogueState, result: DialogueResult): DialogueResult {
  const ui = englishUi(ctx);
  const [first, ...rest] = result.replies;
  if (!ui || !first || before.mode === 'flow' || result.state.mode !== 'flow') return result;
  return { ...result, replies: [{ ...first, text: `${fill(ctx.kb, ui.flowInChinese)}\n${first.text}`, lang: 'en' }, ...rest] };
}

/** Away this long, a user in the middle of an application is reminded where it stands. */
const AWAY_MS = 30 * 60_000;

function welcomeBack(ctx: DialogueContext, before: DialogueState, result: DialogueResult): { text: string }[] {
  if (before.mode !== 'flow' || result.state.mode !== 'flow' || !before.lastSeen) return [];
  if (ctx.now.getTime() - Date.parse(before.lastSeen) < AWAY_MS) return [];
  // The recap itself already says it.
  if (result.replies.some((r) => r.text.includes('您正在办理'))) return [];
  const flow = flows.flowOf(ctx, result.state);
  const n = Object.keys(result.state.flow.answers).length;
  return [{ text: `欢迎回来！您正在办理「${shortTitle(flow.title)}」${n ? `，已填写 ${n} 项` : ''}，我们接着来。` }];
}

function run(ctx: DialogueContext, state: DialogueState, input: DialogueInput): DialogueResult {
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
    case 'resume':
      return s.mode === 'handoff' ? moves.resume(ctx, s) : done(toBot(s), { text: '好的，已回到智能客服。请问还有什么可以帮您？' });
    case 'handoff-notice':
      return s.mode === 'handoff' ? handoffNotice(ctx, s, cmd.urgent) : done(s);
    case 'silent':
      // While a person has the conversation, the bot stays quiet.
      return done(s);
    case 'handoff':
      return handoff(ctx, s, cmd.reason, cmd.note, cmd.guide);
    case 'rephrase':
      return done(s, { text: '好的，请换个说法描述您的问题，例如“水费在哪交”“家里没水了”。' });
    case 'start-flow':
      return flows.startFlow(ctx, s, cmd.flowId);
    case 'start-application':
      return flows.startFlow(ctx, s, cmd.itemId, { single: true });
    case 'show-item':
      return answerItem(ctx, s, cmd.itemId, cmd.aspect);
    case 'lookup':
      return { replies: [], state: toBot(s), effects: [{ type: 'lookup-application', ref: cmd.ref, mobile: cmd.mobile }] };
    case 'ask-lookup-mobile':
      return done(toBot(s, { lookupRef: cmd.ref }), { text: `请输入办件 ${cmd.ref} 申请时预留的手机号，我来帮您查询进度。` });
    case 'understood':
      return understood(ctx, s, cmd.u, cmd.text);
    case 'stale':
      return stale(ctx, s);
    case 'empty':
      return s.mode === 'flow' ? done(s, moves.reask(ctx, s, '没有收到内容。')) : done(s, { text: '没有收到内容，请输入您想咨询的问题，例如“水费怎么交”“过户要带什么”。' });
  }
  if (s.mode !== 'flow') return stale(ctx, s);
  return executeInFlow(ctx, s, cmd);
}

/** A button from an earlier question, or one no longer known: nothing is recorded, the current question is asked again. */
function stale(ctx: DialogueContext, s: DialogueState): DialogueResult {
  const note = '这个按钮已经过期或无效了（可能属于之前的问题），这次点击没有记录。';
  if (s.mode === 'flow') return done(s, { text: note }, moves.reask(ctx, s, '当前的问题是：'));
  if (s.mode === 'handoff') return handoffNotice(ctx, s, false);
  return done(s, { text: `${note}请问还有什么可以帮您？` });
}

function executeInFlow(ctx: DialogueContext, state: FlowModeState, cmd: Command): DialogueResult {
  // "放弃当前办理吗？" answered with anything else than stay or switch: the question is dropped.
  const keep = cmd.kind === 'switch-go' || cmd.kind === 'switch-stay' || cmd.kind === 'switch-ask';
  const s: FlowModeState = state.flow.switchTo && !keep ? { ...state, flow: { ...state.flow, switchTo: undefined } } : state;
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
      return moves.invalid(ctx, s, cmd.reason);
    case 'skip':
      return moves.skip(ctx, s);
    case 'side':
      return moves.sideAnswer(ctx, s, cmd.reply);
    case 'recap':
      return moves.recap(ctx, s);
    case 'switch-ask':
      return moves.askSwitch(ctx, s, cmd.target, (bot, target) => start(ctx, bot, target));
    case 'switch-go':
      return moves.switchFlow(ctx, s, (bot, target) => start(ctx, bot, target));
    case 'switch-stay':
      return moves.stay(ctx, s);
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
      return moves.phaseAgain(ctx, s, cmd.side);
    default:
      return stale(ctx, s);
  }
}

/** Starts a target named by a button or a switch: `flow:<id>`. */
function start(ctx: DialogueContext, s: DialogueState, target: string): DialogueResult {
  const [kind, id] = target.split(':') as [string, string];
  if (kind === 'flow' && ctx.kb.flows.has(id)) return flows.startFlow(ctx, s, id);
  if (kind === 'apply' && ctx.kb.applications.has(id)) return flows.startFlow(ctx, s, id, { single: true });
  return done(toBot(s), { text: '请问还有什么可以帮您？' });
}

export { statusText } from './bot.js';
