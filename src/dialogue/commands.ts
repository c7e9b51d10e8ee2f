import type { Reply } from '../core/index.js';
import { ASPECTS, type Aspect } from '../knowledge/index.js';
import type { Understanding } from '../nlu/index.js';
import { controlsOf } from './controls.js';
import { currentQuestion, flowOf, slotEnv } from './flow-dialogue.js';
import { questionNamedIn } from './questions.js';
import { aspectText } from './render.js';
import { checkMobile, checkSlot, type SlotValue } from './slots.js';
import type { DialogueContext, DialogueState, FlowModeState, HandoffReason } from './types.js';

/** What a message asks the dialogue to do: the one decision `interpret` makes, carried out by the engine's switch. */
export type Command =
  | { kind: 'resume-bot' }
  | { kind: 'silent' }
  | { kind: 'handoff'; reason: HandoffReason; note?: string }
  | { kind: 'rephrase' }
  | { kind: 'start-flow'; flowId: string }
  | { kind: 'show-item'; itemId: string; aspect: Aspect | null }
  | { kind: 'lookup'; ref: string; mobile: string }
  | { kind: 'ask-lookup-mobile'; ref: string }
  | { kind: 'understood'; u: Understanding }
  | FlowCommand;

/** Commands that only make sense while an application is in progress. */
export type FlowCommand =
  | { kind: 'cancel' }
  | { kind: 'back' }
  | { kind: 'edit-menu' }
  | { kind: 'edit'; questionId: string; text?: string }
  | { kind: 'answer'; value: SlotValue }
  | { kind: 'invalid'; reason: string }
  | { kind: 'side'; reply: Reply }
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

const REF = /WS\d{8}-\d{4,}/i;
const FREE_TEXT = new Set(['name', 'address', 'text']);

/** Decides what a typed message or a button press asks for, given where the conversation is. */
export function interpret(ctx: DialogueContext, s: DialogueState, input: { kind: 'text'; text: string } | { kind: 'postback'; payload: string }): Command {
  if (input.kind === 'postback') {
    const p = input.payload;
    if (p === 'handoff') return { kind: 'handoff', reason: s.fallbacks >= 2 ? 'repeated-fallback' : 'user-request' };
    if (p === 'handoff:none') return { kind: 'handoff', reason: 'clarify-none' };
    if (p === 'continue') return { kind: 'rephrase' };
    if (s.mode === 'flow') return flowPostback(ctx, s, p);
    const [kind, id, aspect] = p.split(':');
    if (kind === 'flow' && id && ctx.kb.flows.has(id)) return { kind: 'start-flow', flowId: id };
    if (kind === 'item' && id && ctx.kb.items.has(id)) return { kind: 'show-item', itemId: id, aspect: ASPECTS.includes(aspect as Aspect) ? (aspect as Aspect) : null };
    return interpret(ctx, s, { kind: 'text', text: p });
  }
  const text = input.text.trim();
  if (s.mode === 'handoff' || s.mode === 'agent') return controlsOf(ctx.kb).is('backToBot', text) ? { kind: 'resume-bot' } : { kind: 'silent' };
  if (s.mode === 'flow') return flowText(ctx, s, text);
  if (s.mode === 'bot' && s.lookupRef) {
    const mobile = checkMobile(text);
    if (mobile.ok) return { kind: 'lookup', ref: s.lookupRef, mobile: String(mobile.value) };
  }
  const ref = text.match(REF)?.[0];
  if (ref) return { kind: 'ask-lookup-mobile', ref: ref.toUpperCase() };
  return { kind: 'understood', u: ctx.classifier.classify(text) };
}

/** A guide answer when the text is a question the classifier placed. */
function sideQuestion(ctx: DialogueContext, text: string, u: Understanding): Reply | null {
  if (!controlsOf(ctx.kb).isQuestion(text)) return null;
  if (u.decision !== 'answer' || !u.itemId) return null;
  const item = ctx.kb.items.get(u.itemId)!;
  return { text: u.aspect ? aspectText(ctx.kb, item, u.aspect) : item.answer };
}

function flowText(ctx: DialogueContext, s: FlowModeState, text: string): Command {
  const flow = flowOf(ctx, s);
  const f = s.flow;
  const c = controlsOf(ctx.kb);
  if (c.is('cancel', text)) return { kind: 'cancel' };
  if (c.is('back', text)) return { kind: 'back' };
  const u = ctx.classifier.classify(text);
  if (u.decision === 'handoff') return { kind: 'handoff', reason: 'user-request', note: `办理中：${flow.title}` };
  const current = currentQuestion(ctx, s);
  if (c.is('edit', text)) {
    const named = questionNamedIn(flow, f.answers, text) ?? (current && questionNamedIn(flow, f.answers, text, [current]));
    if (named) return { kind: 'edit', questionId: named.id, text: c.stripEdit(text) };
    if (f.phase !== 'asking') return { kind: 'edit-menu' };
  }
  switch (f.phase) {
    case 'materials':
    case 'commitment':
    case 'confirm':
      return phaseText(ctx, s, text, u);
    case 'submitting':
      return { kind: 'wait' };
  }
  if (!current) return { kind: 'advance' };
  // Free text accepts almost anything, and a choice matches option words inside a question ("过户要钱吗？" at 户名变更):
  // a question about a guide is answered first there.
  const asks = FREE_TEXT.has(current.type) || ((current.type === 'choice' || current.type === 'yes-no') && u.aspect !== null);
  const side = asks ? sideQuestion(ctx, text, u) : null;
  if (side) return { kind: 'side', reply: side };
  const r = checkSlot(text, current, slotEnv(ctx));
  if (r.ok) return { kind: 'answer', value: r.value };
  const answer = sideQuestion(ctx, text, u);
  if (answer) return { kind: 'side', reply: answer };
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

function flowPostback(ctx: DialogueContext, s: FlowModeState, payload: string): Command {
  const flow = flowOf(ctx, s);
  const f = s.flow;
  if (payload === 'cancel') return { kind: 'cancel' };
  if (payload === 'back') return { kind: 'back' };
  if (payload === 'edit') return { kind: 'edit-menu' };
  if (payload.startsWith('edit:')) {
    const q = flow.questions.find((x) => x.id === payload.slice(5));
    return q ? { kind: 'edit', questionId: q.id } : { kind: 'edit-menu' };
  }
  if (f.phase !== 'asking') {
    if (f.phase === 'materials' && (payload === 'yes' || payload === 'no')) return { kind: 'materials', missing: payload === 'no' };
    if (f.phase === 'commitment' && payload.startsWith('commit:')) return { kind: 'commit', accept: payload === 'commit:accept' };
    if (f.phase === 'confirm' && payload === 'confirm') return { kind: 'submit' };
    return flowText(ctx, s, payload);
  }
  const current = currentQuestion(ctx, s);
  if (current && payload.startsWith('opt:')) {
    const value = payload.slice(4);
    if (current.options?.some((o) => o.value === value)) return { kind: 'answer', value };
  }
  if (current && current.type === 'yes-no' && (payload === 'yes' || payload === 'no')) return { kind: 'answer', value: payload === 'yes' };
  if (payload.startsWith('item:') && current) {
    const [, id, aspect] = payload.split(':');
    const item = ctx.kb.items.get(id ?? '');
    if (item) return { kind: 'side', reply: { text: aspect ? aspectText(ctx.kb, item, aspect as Aspect) : item.answer } };
  }
  if (payload.startsWith('flow:') && ctx.kb.flows.has(payload.slice(5))) return { kind: 'start-flow', flowId: payload.slice(5) };
  return flowText(ctx, s, payload);
}
