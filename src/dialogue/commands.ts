import type { Reply } from '../core/index.js';
import { ASPECTS, type Aspect } from '../knowledge/index.js';
import type { Understanding } from '../nlu/index.js';
import { controlsOf } from './controls.js';
import { currentQuestion, flowOf, slotEnv } from './flow-dialogue.js';
import { isAnswerPayload, isLive, parsePrompted } from './prompts.js';
import { questionNamedIn, skippable } from './questions.js';
import { aspectText } from './render.js';
import { checkChoice, checkMobile, checkSlot, type SlotValue } from './slots.js';
import type { DialogueContext, DialogueState, FlowModeState, HandoffReason } from './types.js';

/** What a message asks the dialogue to do: the one decision `interpret` makes, carried out by the engine's switch. */
export type Command =
  | { kind: 'resume' }
  | { kind: 'handoff-notice'; urgent: boolean }
  | { kind: 'silent' }
  | { kind: 'handoff'; reason: HandoffReason; note?: string; guide?: Reply }
  | { kind: 'rephrase' }
  | { kind: 'start-flow'; flowId: string }
  | { kind: 'start-application'; itemId: string }
  | { kind: 'show-item'; itemId: string; aspect: Aspect | null }
  | { kind: 'lookup'; ref: string; mobile: string }
  | { kind: 'ask-lookup-mobile'; ref: string }
  | { kind: 'understood'; u: Understanding; text: string }
  | { kind: 'stale' }
  | { kind: 'empty' }
  | FlowCommand;

/** Commands that only make sense while an application is in progress. */
export type FlowCommand =
  | { kind: 'cancel' }
  | { kind: 'back' }
  | { kind: 'edit-menu' }
  | { kind: 'edit'; questionId: string; text?: string }
  | { kind: 'answer'; value: SlotValue }
  | { kind: 'invalid'; reason: string }
  | { kind: 'skip' }
  | { kind: 'side'; reply: Reply }
  | { kind: 'recap' }
  | { kind: 'switch-ask'; target: string }
  | { kind: 'switch-go' }
  | { kind: 'switch-stay' }
  | { kind: 'advance' }
  | { kind: 'wait' }
  | { kind: 'materials'; missing: boolean }
  | { kind: 'commit'; accept: boolean }
  | { kind: 'submit' }
  | { kind: 'phase-again'; side?: Reply };

/** Which part of the conversation a message arrives in. */
export type Phase = 'bot' | 'handoff' | 'asking' | 'materials' | 'commitment' | 'confirm' | 'submitting';

/** The phase of a state. */
export function phaseOf(s: DialogueState): Phase {
  if (s.mode === 'flow') return s.flow.phase;
  if (s.mode === 'handoff' || s.mode === 'agent') return 'handoff';
  return 'bot';
}

/** The understanding, with the optional fields a newer classifier adds. */
type Heard = Understanding;

/** The complaints guide (catalogue id): a message about it, inside a flow, goes to a person. */
const COMPLAINT_ITEM = 'complaint';
const REF = /WS\d{8}-\d{4,}/i;
const FREE_TEXT = new Set(['name', 'address', 'text']);
/** Words that ask for something to be done rather than answer a question ("我要开店"). */
const ASKS_FOR = /^(我要|我想|想要|我准备|准备|打算|帮我|我打算|我们要|我们想)/;

/** The typed text as the engine reads it: trimmed, and spaces between Chinese characters (typing noise, "你 好") dropped. */
export const tidy = (text: string) => text.trim().replace(/(?<=\p{Script=Han})\s+(?=\p{Script=Han})/gu, '');

/** Decides what a typed message or a button press asks for, given where the conversation is. */
export function interpret(ctx: DialogueContext, s: DialogueState, input: { kind: 'text'; text: string } | { kind: 'postback'; payload: string }): Command {
  if (input.kind === 'postback') return postback(ctx, s, input.payload);
  const text = tidy(input.text);
  const phase = phaseOf(s);
  if (phase === 'handoff') return handoffText(ctx, s, text);
  if (!text) return { kind: 'empty' };
  if (s.mode === 'flow') return flowText(ctx, s, text);
  if ((s.mode === 'bot' || s.mode === 'closed') && s.lookupRef) {
    const mobile = checkMobile(text);
    if (mobile.ok) return { kind: 'lookup', ref: s.lookupRef, mobile: String(mobile.value) };
  }
  const ref = text.match(REF)?.[0];
  if (ref) return { kind: 'ask-lookup-mobile', ref: ref.toUpperCase() };
  return { kind: 'understood', u: ctx.classifier.classify(text), text };
}

function postback(ctx: DialogueContext, s: DialogueState, payload: string): Command {
  if (payload === 'handoff') return { kind: 'handoff', reason: s.fallbacks >= 2 ? 'repeated-fallback' : 'user-request' };
  if (payload === 'handoff:none') return { kind: 'handoff', reason: 'clarify-none' };
  if (payload === 'handoff:stuck') return { kind: 'handoff', reason: 'stuck' };
  if (payload === 'continue') return { kind: 'rephrase' };
  if (payload === 'resume') return s.mode === 'handoff' ? { kind: 'resume' } : { kind: 'stale' };
  const prompted = parsePrompted(payload);
  // An answer button that names no prompt (an old format) or another prompt than the one on screen is never applied.
  if (prompted ? !isLive(s, prompted.id) : isAnswerPayload(payload)) return { kind: 'stale' };
  const value = prompted ? prompted.value : payload;
  if (s.mode === 'flow') return flowPostback(ctx, s, value, !!prompted);
  const [kind, id, aspect] = value.split(':');
  if (kind === 'flow' && id && ctx.kb.flows.has(id)) return { kind: 'start-flow', flowId: id };
  if (kind === 'apply' && id && ctx.kb.applications.has(id)) return { kind: 'start-application', itemId: id };
  if (kind === 'item' && id && ctx.kb.items.has(id)) return { kind: 'show-item', itemId: id, aspect: ASPECTS.includes(aspect as Aspect) ? (aspect as Aspect) : null };
  // Unknown postbacks are never taken as typed text.
  return { kind: 'stale' };
}

function handoffText(ctx: DialogueContext, s: DialogueState, text: string): Command {
  if (s.mode === 'agent') return { kind: 'silent' };
  if (controlsOf(ctx.kb).is('backToBot', text)) return { kind: 'resume' };
  return { kind: 'handoff-notice', urgent: !!text && ctx.classifier.classify(text).urgent };
}

/** A guide answer when the text is a question the classifier placed. */
function sideQuestion(ctx: DialogueContext, text: string, u: Understanding): Reply | null {
  if (!controlsOf(ctx.kb).isQuestion(text)) return null;
  if (u.decision !== 'answer' || !u.itemId) return null;
  const item = ctx.kb.items.get(u.itemId)!;
  return { text: u.aspect ? aspectText(ctx.kb, item, u.aspect) : item.answer };
}

/** The message names the complaints guide by one of its own aliases ("我要投诉你们的施工队"). */
function namesComplaint(ctx: DialogueContext, text: string): boolean {
  const item = ctx.kb.items.get(COMPLAINT_ITEM);
  return !!item && item.aliases.some((a) => /^\p{Script=Han}{2,}$/u.test(a) && text.includes(a));
}

/**
 * Urgency, hand-off requests and complaints win over any pending question — on a strong signal. A valid answer to the
 * question on screen (an address, an ID number) is never hijacked by a weak one: the classifier placing it at the
 * complaints guide, or a complaints word inside it; only the classifier's hand-off decision outranks it.
 */
function overriding(ctx: DialogueContext, s: FlowModeState, u: Heard, text: string): Command | null {
  const note = `办理中：${flowOf(ctx, s).title}`;
  const guideId = u.alsoItem ?? (u.decision === 'answer' ? u.itemId : null);
  const guide = guideId && ctx.kb.items.get(guideId) ? { text: ctx.kb.items.get(guideId)!.answer } : undefined;
  const strong = u.decision === 'handoff';
  const answers = () => {
    const current = s.flow.phase === 'asking' ? currentQuestion(ctx, s) : null;
    return !!current && checkSlot(text, current, slotEnv(ctx)).ok;
  };
  if ((strong && u.handoffReason === 'urgent') || (u.urgent && !answers())) return { kind: 'handoff', reason: 'urgent', note, guide };
  const weakComplaint = (u.decision === 'answer' && u.itemId === COMPLAINT_ITEM) || namesComplaint(ctx, text);
  const complaint = (strong && u.handoffReason === 'complaint') || (weakComplaint && !answers());
  if (complaint) return { kind: 'handoff', reason: 'complaint', note, guide };
  if (u.decision === 'handoff') return { kind: 'handoff', reason: 'user-request', note };
  return null;
}

function flowText(ctx: DialogueContext, s: FlowModeState, text: string): Command {
  const flow = flowOf(ctx, s);
  const f = s.flow;
  const c = controlsOf(ctx.kb);
  if (c.is('cancel', text)) return { kind: 'cancel' };
  if (c.is('back', text)) return { kind: 'back' };
  const u = ctx.classifier.classify(text);
  const wins = overriding(ctx, s, u, text);
  if (wins) return wins;
  if (f.switchTo) {
    if (c.is('stay', text)) return { kind: 'switch-stay' };
    const yn = c.yesNo(text, '放弃 改办');
    if (yn !== null) return yn ? { kind: 'switch-go' } : { kind: 'switch-stay' };
  }
  const current = currentQuestion(ctx, s);
  // Small talk ("不用了" reads as a closing) asks where we are — unless it answers the question on screen.
  const answersCurrent = f.phase === 'asking' && !!current && checkSlot(text, current, slotEnv(ctx)).ok;
  if (c.is('where', text) || (u.decision === 'smalltalk' && !answersCurrent)) return { kind: 'recap' };
  if (c.is('edit', text)) {
    const named = questionNamedIn(flow, f.answers, text) ?? (current && questionNamedIn(flow, f.answers, text, [current]));
    if (named) {
      // The new value is what follows 是/为/改成 ("户号填错了，是1002345679"), else the message without its edit words.
      const tail = text.split(/是|为|改成|成|[:：]/).at(-1)?.trim();
      const value = [tail, c.stripEdit(text)].find((t) => t && checkSlot(t, named, slotEnv(ctx)).ok) ?? c.stripEdit(text);
      return { kind: 'edit', questionId: named.id, text: value };
    }
    // "修改信息" on its own, even while stuck on a question, offers the answers to change.
    if (f.phase !== 'asking' || (Object.keys(f.answers).length && [...text.replace(/\s/g, '')].length <= 6)) return { kind: 'edit-menu' };
  }
  const other = u.decision === 'flow' && u.flowId && (u.flowId !== f.id || f.single) ? `flow:${u.flowId}` : null;
  switch (f.phase) {
    case 'materials':
    case 'commitment':
    case 'confirm':
      if (other) return { kind: 'switch-ask', target: other };
      return phaseText(ctx, s, text, u);
    case 'submitting':
      return { kind: 'wait' };
  }
  if (!current) return { kind: 'advance' };
  // Free text takes almost anything: there only a message asking for something ("我要开店") means another flow.
  if (other && (FREE_TEXT.has(current.type) ? ASKS_FOR.test(text) : !checkSlot(text, current, slotEnv(ctx)).ok)) return { kind: 'switch-ask', target: other };
  // Free text accepts almost anything, and a choice matches option words inside a question ("过户要钱吗？" at 户名变更):
  // a question about a guide is answered first there.
  const asks = FREE_TEXT.has(current.type) || current.type === 'yes-no' || (current.type === 'choice' && u.aspect !== null);
  const side = asks ? sideQuestion(ctx, text, u) : null;
  if (side) return { kind: 'side', reply: side };
  const r = checkSlot(text, current, slotEnv(ctx));
  if (r.ok) return { kind: 'answer', value: r.value };
  const answer = sideQuestion(ctx, text, u);
  if (answer) return { kind: 'side', reply: answer };
  if (c.is('skip', text) && skippable(current)) return { kind: 'skip' };
  // Typing another option of an answered choice ("已有水表" after pressing 新装水表) changes that answer.
  const corrected = flow.questions.find((q) => q.type === 'choice' && q.id in f.answers && q.id !== current.id && checkChoice(text, q, true).ok);
  if (corrected) return { kind: 'edit', questionId: corrected.id, text };
  return { kind: 'invalid', reason: r.reason };
}

function phaseText(ctx: DialogueContext, s: FlowModeState, text: string, u: Understanding): Command {
  const phase = s.flow.phase;
  const c = controlsOf(ctx.kb);
  // The phase's own button titles typed back ("同意承诺") are no substance.
  const yn = c.yesNo(text, '同意承诺 不同意 都能提供 暂时缺少 确认提交');
  if (phase === 'confirm') {
    if ((c.is('confirm', text) && !c.isQuestion(text)) || yn === true) return { kind: 'submit' };
    if (yn === false) return { kind: 'edit-menu' };
  } else if (yn !== null) {
    return phase === 'materials' ? { kind: 'materials', missing: !yn } : { kind: 'commit', accept: yn };
  } else if (phase === 'materials' && !c.isQuestion(text) && (c.is('materialsMissing', text) || c.is('materialsAll', text))) {
    // The buttons' own titles, typed: 都能提供 / 暂时缺少.
    return { kind: 'materials', missing: c.is('materialsMissing', text) };
  }
  const side = sideQuestion(ctx, text, u);
  return side ? { kind: 'phase-again', side } : { kind: 'phase-again' };
}

/** A live button of the flow's prompt (`value` is what the button carried), or a navigation button. */
function flowPostback(ctx: DialogueContext, s: FlowModeState, value: string, prompted: boolean): Command {
  const flow = flowOf(ctx, s);
  const f = s.flow;
  if (prompted) {
    if (value === 'switch') return f.switchTo ? { kind: 'switch-go' } : { kind: 'stale' };
    if (value === 'stay') return { kind: 'switch-stay' };
    if (value === 'cancel') return { kind: 'cancel' };
    if (value === 'back') return { kind: 'back' };
    if (value === 'skip') return { kind: 'skip' };
    if (value === 'edit') return { kind: 'edit-menu' };
    if (value.startsWith('edit:')) {
      const q = flow.questions.find((x) => x.id === value.slice(5));
      return q ? { kind: 'edit', questionId: q.id } : { kind: 'edit-menu' };
    }
    if (f.phase === 'materials' && (value === 'yes' || value === 'no')) return { kind: 'materials', missing: value === 'no' };
    if (f.phase === 'commitment' && value.startsWith('commit:')) return { kind: 'commit', accept: value === 'commit:accept' };
    if (f.phase === 'confirm' && value === 'confirm') return { kind: 'submit' };
    const current = currentQuestion(ctx, s);
    if (f.phase === 'asking' && current) {
      if (value.startsWith('opt:') && current.options?.some((o) => o.value === value.slice(4))) return { kind: 'answer', value: value.slice(4) };
      if (current.type === 'yes-no' && (value === 'yes' || value === 'no')) return { kind: 'answer', value: value === 'yes' };
    }
    return { kind: 'stale' };
  }
  const [kind, id, aspect] = value.split(':');
  if (kind === 'item' && id && ctx.kb.items.has(id)) {
    const item = ctx.kb.items.get(id)!;
    return { kind: 'side', reply: { text: aspect ? aspectText(ctx.kb, item, aspect as Aspect) : item.answer } };
  }
  if (kind === 'flow' && id && ctx.kb.flows.has(id)) return id === f.id && !f.single ? { kind: 'recap' } : { kind: 'switch-ask', target: `flow:${id}` };
  if (kind === 'apply' && id && ctx.kb.applications.has(id)) return `apply-${id}` === f.id ? { kind: 'recap' } : { kind: 'switch-ask', target: `apply:${id}` };
  return { kind: 'stale' };
}
