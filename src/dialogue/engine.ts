import type { Reply } from '../core/index.js';
import { ASPECTS, type Aspect } from '../knowledge/index.js';
import type { Understanding } from '../nlu/index.js';
import { runFlowText, runFlowPostback, startFlow, finishApplication } from './flow-dialogue.js';
import { aspectReply, guideReply, HANDOFF_BUTTON, targetButton } from './render.js';
import { checkMobile } from './slots.js';
import { STATE_VERSION, type DialogueContext, type DialogueInput, type DialogueResult, type DialogueState, type HandoffReason } from './types.js';

/** A fresh state for a new conversation. */
export function initialState(): DialogueState {
  return { v: STATE_VERSION, mode: 'bot', fallbacks: 0, applications: [] };
}

/** Brings a stored state of an older version up to date. */
export function migrate(state: Partial<DialogueState> | null | undefined): DialogueState {
  if (!state || typeof state !== 'object') return initialState();
  return { ...initialState(), ...state, v: STATE_VERSION };
}

const REF = /WS\d{8}-\d{4,}/i;
const BACK_TO_BOT = /^(返回机器人|回到机器人|取消转人工|不用人工了|继续问机器人)$/;

/** The dialogue engine: a pure function from state and input to replies, next state and effects. */
export function step(ctx: DialogueContext, state: DialogueState, input: DialogueInput): DialogueResult {
  const s = structuredClone(state);
  switch (input.kind) {
    case 'start':
      return { replies: [welcome(ctx)], state: s, effects: [] };
    case 'application-created':
      return finishApplication(ctx, s, input.application);
    case 'lookup-result':
      return lookupResult(s, input.application);
    case 'postback':
      return postback(ctx, s, input.payload);
    case 'text':
      return text(ctx, s, input.text);
  }
}

function welcome(ctx: DialogueContext): Reply {
  return { text: ctx.kb.utility.welcome.text, quickReplies: ctx.kb.utility.welcome.quickReplies };
}

function done(state: DialogueState, ...replies: Reply[]): DialogueResult {
  return { replies, state, effects: [] };
}

/** Hands the conversation to a person. */
export function handoff(ctx: DialogueContext, s: DialogueState, reason: HandoffReason, note?: string): DialogueResult {
  s.mode = 'handoff';
  s.handoffReason = reason;
  s.flow = undefined;
  const summary = [`原因：${reason}`, s.itemId ? `当前事项：${ctx.kb.items.get(s.itemId)?.title}` : '', note ?? ''].filter(Boolean).join('；');
  return {
    replies: [{ text: `好的，正在为您转接 ${ctx.kb.utility.hotline} 人工客服，对话记录会一并转给客服，您无需重复描述。如暂时没有空闲坐席，我们会登记回电。如需回到智能客服，请发送“返回机器人”。`, card: { type: 'handoff', reason } }],
    state: s,
    effects: [{ type: 'handoff', reason, summary }],
  };
}

function postback(ctx: DialogueContext, s: DialogueState, payload: string): DialogueResult {
  if (payload === 'handoff') return handoff(ctx, s, s.fallbacks >= 2 ? 'repeated-fallback' : 'user-request');
  if (payload === 'handoff:none') return handoff(ctx, s, 'clarify-none');
  if (payload === 'continue') return done(s, { text: '好的，请换个说法描述您的问题，例如“水费在哪交”“家里没水了”。' });
  if (s.mode === 'flow' && s.flow) return runFlowPostback(ctx, s, payload);
  const [kind, id, aspect] = payload.split(':');
  if (kind === 'flow' && id && ctx.kb.flows.has(id)) return startFlow(ctx, s, id);
  if (kind === 'item' && id && ctx.kb.items.has(id)) return answerItem(ctx, s, id, ASPECTS.includes(aspect as Aspect) ? (aspect as Aspect) : null);
  return text(ctx, s, payload);
}

function text(ctx: DialogueContext, s: DialogueState, raw: string): DialogueResult {
  const input = raw.trim();
  if (s.mode === 'handoff' || s.mode === 'agent') {
    if (BACK_TO_BOT.test(input)) {
      s.mode = 'bot';
      return done(s, { text: '好的，已回到智能客服。请问还有什么可以帮您？' });
    }
    // While a person has the conversation, the bot stays quiet after the first notice.
    return done(s);
  }
  if (s.mode === 'closed') s.mode = 'bot';
  if (s.mode === 'flow' && s.flow) return runFlowText(ctx, s, input);
  if (s.lookupRef) {
    const mobile = checkMobile(input);
    if (mobile.ok) {
      const ref = s.lookupRef;
      s.lookupRef = undefined;
      return { replies: [], state: s, effects: [{ type: 'lookup-application', ref, mobile: String(mobile.value) }] };
    }
    s.lookupRef = undefined;
  }
  const ref = input.match(REF)?.[0];
  if (ref) {
    s.lookupRef = ref.toUpperCase();
    return done(s, { text: `请输入办件 ${s.lookupRef} 申请时预留的手机号，我来帮您查询进度。` });
  }
  return understood(ctx, s, ctx.classifier.classify(input));
}

/** Acts on what the classifier understood (outside a flow). */
export function understood(ctx: DialogueContext, s: DialogueState, u: Understanding): DialogueResult {
  if (u.decision !== 'fallback') s.fallbacks = 0;
  if (isFollowUp(s, u)) return answerItem(ctx, s, s.itemId!, u.aspect);
  switch (u.decision) {
    case 'handoff': {
      const r = handoff(ctx, s, u.handoffReason === 'urgent' ? 'urgent' : 'user-request', u.handoffReason ? `优先级：${u.priority} ${u.handoffReason}` : undefined);
      // The resident still gets the relevant guide's short answer while waiting for a person.
      const also = u.alsoItem ? ctx.kb.items.get(u.alsoItem) : undefined;
      if (also) r.replies.push({ text: also.answer });
      return r;
    }
    case 'smalltalk':
      return done(s, smalltalkReply(ctx, u.smalltalk));
    case 'answer': {
      const r = answerItem(ctx, s, u.itemId!, u.aspect);
      if (u.urgent) r.replies.push({ text: `情况紧急的话，请立即拨打 ${ctx.kb.utility.hotline}，或点击转人工。`, quickReplies: [HANDOFF_BUTTON] });
      return r;
    }
    case 'flow':
      return startFlow(ctx, s, u.flowId!);
    case 'clarify': {
      const buttons = (u.options ?? []).map((k) => targetButton(ctx.kb, k)).filter((b) => b !== null);
      s.aspect = u.aspect ?? undefined;
      return done(s, { text: '您想问的是下面哪一项？', quickReplies: [...buttons, { title: '都不是，转人工', postback: 'handoff:none' }] });
    }
    default:
      return fallback(ctx, s, u);
  }
}

function isFollowUp(s: DialogueState, u: Understanding): boolean {
  if (!s.itemId || !u.aspect) return false;
  if (u.decision === 'handoff' || u.decision === 'flow') return false;
  if (u.decision === 'answer' && u.itemId !== s.itemId && (u.named ?? []).some((k) => k !== `item:${s.itemId}`)) return false;
  return u.decision !== 'answer' || !(u.named ?? []).length;
}

function answerItem(ctx: DialogueContext, s: DialogueState, itemId: string, aspect: Aspect | null): DialogueResult {
  const item = ctx.kb.items.get(itemId)!;
  s.itemId = itemId;
  s.aspect = aspect ?? undefined;
  s.fallbacks = 0;
  return done(s, aspect ? aspectReply(ctx.kb, item, aspect) : guideReply(ctx.kb, item));
}

function smalltalkReply(ctx: DialogueContext, intent?: string): Reply {
  const found = ctx.kb.smalltalk.intents.find((i) => i.id === intent) ?? ctx.kb.smalltalk.intents[0]!;
  return { text: found.replies[0]! };
}

function fallback(ctx: DialogueContext, s: DialogueState, u: Understanding): DialogueResult {
  s.fallbacks += 1;
  const topic = ctx.kb.intents.outOfScope.find((t) => t.topic === u.scopeTopic);
  if (topic) return done(s, { text: [ctx.kb.utility.scopeReply, topic.reply ?? ''].filter(Boolean).join('\n') });
  if (s.fallbacks >= 2) {
    return done(s, {
      text: `抱歉，我还是没能理解您的问题。要不要为您转接 ${ctx.kb.utility.hotline} 人工客服？`,
      quickReplies: [HANDOFF_BUTTON, { title: '我再换个说法', postback: 'continue' }],
    });
  }
  const suggestions = u.candidates.slice(0, 3).map((k) => targetButton(ctx.kb, k)).filter((b) => b !== null);
  return done(s, {
    text: suggestions.length ? '抱歉，我没有完全理解。您是不是想问下面这些？也可以换个说法告诉我。' : ctx.kb.utility.scopeReply,
    quickReplies: [...suggestions, HANDOFF_BUTTON],
  });
}

function lookupResult(s: DialogueState, app: import('../core/index.js').Application | null): DialogueResult {
  if (!app) return done(s, { text: '没有查到该办件，请核对办件编号和手机号。也可以拨打 96510 人工查询。' });
  return done(s, {
    text: `办件 ${app.ref}（${app.title}）当前状态：${statusText(app.status)}，预计 ${app.dueDate} 前办结。`,
    card: { type: 'application', ref: app.ref, title: app.title, status: app.status, dueDate: app.dueDate, fields: app.fields },
  });
}

/** Chinese text for an application status. */
export function statusText(status: string): string {
  return ({ submitted: '已提交，待受理', accepted: '已受理，办理中', completed: '已办结', cancelled: '已撤销' } as Record<string, string>)[status] ?? status;
}
