import type { Application, Reply } from '../core/index.js';
import type { Aspect, EnglishUi } from '../knowledge/index.js';
import type { Understanding } from '../nlu/index.js';
import { startFlow } from './flow-dialogue.js';
import { handoff } from './handoff.js';
import { aspectReply, guideReply, handoffButton, targetButton } from './render.js';
import { controlsOf } from './controls.js';
import { en, englishUi, withEnglishSummary } from './english.js';
import { done, toBot } from './result.js';
import type { BotState, DialogueContext, DialogueResult, DialogueState } from './types.js';

/** The welcome message with its buttons (in English, the buttons are titled by their targets' English titles). */
export function welcome(ctx: DialogueContext): Reply {
  const { text, quickReplies } = ctx.kb.utility.welcome;
  const ui = englishUi(ctx);
  if (!ui) return { text, quickReplies };
  return en(ctx.kb, ui.welcome, { quickReplies: quickReplies.map((q) => targetButton(ctx.kb, q.postback, 'en') ?? q) });
}

/** Acts on what the classifier understood (outside a flow); `text` is the message it read. */
export function understood(ctx: DialogueContext, state: DialogueState, heard: Understanding, text = ''): DialogueResult {
  const u = reconsider(ctx, state, heard, text);
  const s = u.decision !== 'fallback' ? toBot(state, { fallbacks: 0 }) : toBot(state);
  // "查一下我的办件进度" after submitting: this conversation's own application first.
  const own = s.applications.at(-1);
  if (own && u.decision === 'answer' && u.itemId === PROGRESS_ITEM && !REF_IN.test(text)) {
    const others = s.applications.length > 1 ? `（本次对话共提交 ${s.applications.length} 件，这是最近一件）` : '';
    return done(toBot(s, { lookupRef: own, itemId: PROGRESS_ITEM }), { text: `您在本次对话中提交的办件是 ${own}${others}。请输入申请时预留的手机号，我来帮您查询进度。` });
  }
  // "我要办理过户", or "我要办理" under a guide: the item's own application.
  const apply = applyTarget(ctx, s, u, text);
  if (apply) return startFlow(ctx, s, apply, { single: true, opening: text });
  if (isFollowUp(s, u)) return answerItem(ctx, s, s.itemId!, u.aspect);
  // An urgent or complaining resident still gets the relevant guide (who repairs what, outage notices, how to complain)
  // beside the handoff; a plain "转人工" gets none.
  const narrative = u.urgent || u.handoffReason === 'urgent' || u.handoffReason === 'complaint';
  const also = narrative && u.alsoItem ? ctx.kb.items.get(u.alsoItem) : undefined;
  const guide = also ? withEnglishSummary(ctx, also, { text: also.answer }) : undefined;
  if (u.urgent && u.decision !== 'answer') return handoff(ctx, s, 'urgent', undefined, guide);
  switch (u.decision) {
    case 'handoff':
      return handoff(ctx, s, u.handoffReason === 'urgent' ? 'urgent' : u.handoffReason === 'complaint' ? 'complaint' : 'user-request', undefined, guide);
    case 'smalltalk':
      return done(s, smalltalkReply(ctx, u.smalltalk));
    case 'answer': {
      const r = withSecondAsk(ctx, answerItem(ctx, s, u.itemId!, u.aspect), u);
      if (!u.urgent) return r;
      const ui = englishUi(ctx);
      const hint = ui ? en(ctx.kb, ui.urgentHint, { quickReplies: [handoffButton(ui)] }) : { text: `情况紧急的话，请立即拨打 ${ctx.kb.utility.hotline}，或点击转人工。`, quickReplies: [handoffButton()] };
      return { ...r, replies: [...r.replies, hint] };
    }
    case 'flow':
      return startFlow(ctx, s, u.flowId!, { opening: text });
    case 'clarify':
      return done({ ...s, aspect: u.aspect ?? undefined }, clarifyReply(ctx, u.options ?? []));
    default:
      return fallback(ctx, s, u);
  }
}

/** "Which of these do you mean?" with a button per option and one for a person. */
function clarifyReply(ctx: DialogueContext, options: string[]): Reply {
  const ui = englishUi(ctx);
  const buttons = options.map((k) => targetButton(ctx.kb, k, ui ? 'en' : 'zh')).filter((b) => b !== null);
  if (ui) return en(ctx.kb, ui.clarify, { quickReplies: [...buttons, { title: ui.noneOfThese, postback: 'handoff:none' }] });
  return { text: '您想问的是下面哪一项？', quickReplies: [...buttons, { title: '都不是，转人工', postback: 'handoff:none' }] };
}

/** A message with two asks: the first is answered, the second offered as a button on the last reply. */
function withSecondAsk(ctx: DialogueContext, r: DialogueResult, u: Understanding): DialogueResult {
  const ui = englishUi(ctx);
  const second = u.secondAsk && u.secondAsk !== `item:${u.itemId}` ? targetButton(ctx.kb, u.secondAsk, ui ? 'en' : 'zh') : null;
  const last = r.replies.at(-1);
  if (!second || !last) return r;
  const button = { ...second, title: ui ? `${ui.alsoAsk} ${second.title}` : `还想问：${second.title}` };
  return { ...r, replies: [...r.replies.slice(0, -1), { ...last, quickReplies: [button, ...(last.quickReplies ?? [])] }] };
}

/** The item of the progress-lookup guide (catalogue id). */
const PROGRESS_ITEM = 'progress-query';
const REF_IN = /WS\d{8}-\d{4,}/i;

/**
 * Second thoughts on the classifier's decision from what this conversation knows: a question about an item of the
 * flow just submitted ("装修完了怎么恢复用水") is that item's guide, not the flow again; a thank-you or greeting the
 * classifier could not place ("谢谢你姑娘") is smalltalk, not out of scope.
 */
function reconsider(ctx: DialogueContext, s: DialogueState, u: Understanding, text: string): Understanding {
  // "水电费能一起交吗": a question naming another utility's business is not a 一件事 of ours.
  if (u.decision === 'flow' && controlsOf(ctx.kb).isQuestion(text)) {
    const topic = ctx.kb.intents.outOfScope.find((t) => t.reply && t.words.some((w) => text.includes(w)));
    if (topic) return { ...u, decision: 'fallback', flowId: null, scopeTopic: topic.topic };
  }
  if (u.decision === 'flow' && u.flowId) {
    const flow = ctx.kb.flows.get(u.flowId);
    const item = u.candidates.find((k) => k.startsWith('item:'))?.slice(5);
    const asks = controlsOf(ctx.kb).isQuestion(text);
    const justDone = s.lastFlowId === u.flowId;
    const topIsItem = u.candidates[0]?.startsWith('item:');
    // "水表销户和代扣解约能一起办吗" asks for the 一件事 as a whole: that stays the flow.
    const whole = ctx.kb.intents.flowCues.some((w) => text.includes(w));
    if (item && flow?.items.includes(item) && asks && !whole && (justDone || topIsItem)) return { ...u, decision: 'answer', itemId: item, flowId: null };
  }
  // Unsure between the flow just submitted and one of its items, a question is about that item, not the flow again.
  if (u.decision === 'clarify' && s.mode === 'bot' && s.lastFlowId && (u.options ?? []).includes(`flow:${s.lastFlowId}`)) {
    const top = u.options![0]!;
    const own = top.startsWith('item:') && ctx.kb.flows.get(s.lastFlowId)?.items.includes(top.slice(5));
    if (own && controlsOf(ctx.kb).isQuestion(text)) return { ...u, decision: 'answer', itemId: top.slice(5), flowId: null };
  }
  if (u.decision === 'fallback' && !u.scopeTopic && text) {
    const compact = text.replace(/\s/g, '');
    const talk = ctx.kb.smalltalk.intents.find((i) => i.patterns.some((p) => p.length >= 2 && compact.includes(p)));
    if (talk) return { ...u, decision: 'smalltalk', smalltalk: talk.id };
  }
  return u;
}

/** The item whose own application a message asks for: the item it names, else the guide being discussed. */
function applyTarget(ctx: DialogueContext, s: DialogueState, u: Understanding, text: string): string | null {
  const c = controlsOf(ctx.kb);
  if (!text || !c.is('apply', text) || c.isQuestion(text)) return null;
  if (u.decision === 'answer' && u.itemId) return ctx.kb.applications.has(u.itemId) ? u.itemId : null;
  if (u.decision === 'flow') return null;
  return s.itemId && ctx.kb.applications.has(s.itemId) ? s.itemId : null;
}

function isFollowUp(s: BotState, u: Understanding): boolean {
  if (!s.itemId || !u.aspect) return false;
  if (u.decision === 'handoff' || u.decision === 'flow') return false;
  if (u.decision === 'answer' && u.itemId !== s.itemId && (u.named ?? []).some((k) => k !== `item:${s.itemId}`)) return false;
  return u.decision !== 'answer' || !(u.named ?? []).length;
}

/** A guide, or one aspect of it. */
export function answerItem(ctx: DialogueContext, s: DialogueState, itemId: string, aspect: Aspect | null): DialogueResult {
  const item = ctx.kb.items.get(itemId)!;
  const next = toBot(s, { itemId, aspect: aspect ?? undefined, fallbacks: 0 });
  const ui = englishUi(ctx);
  const reply = aspect ? aspectReply(ctx.kb, item, aspect, ctx.now, ui) : guideReply(ctx.kb, item, ctx.now, ui);
  return done(next, withEnglishSummary(ctx, item, reply));
}

function smalltalkReply(ctx: DialogueContext, intent?: string): Reply {
  const found = ctx.kb.smalltalk.intents.find((i) => i.id === intent) ?? ctx.kb.smalltalk.intents[0]!;
  const english = ctx.lang === 'en' ? found.repliesEn[0] : undefined;
  return english ? en(ctx.kb, english) : { text: found.replies[0]! };
}

function fallback(ctx: DialogueContext, state: BotState, u: Understanding): DialogueResult {
  const s: BotState = { ...state, fallbacks: state.fallbacks + 1 };
  const ui = englishUi(ctx);
  if (ui) return done(s, englishFallback(ctx, ui, s, u));
  const topic = ctx.kb.intents.outOfScope.find((t) => t.topic === u.scopeTopic);
  if (topic) return done(s, { text: [ctx.kb.utility.scopeReply, topic.reply ?? ''].filter(Boolean).join('\n') });
  if (s.fallbacks >= 2) {
    return done(s, {
      text: `抱歉，我还是没能理解您的问题。要不要为您转接 ${ctx.kb.utility.hotline} 人工客服？`,
      quickReplies: [handoffButton(), { title: '我再换个说法', postback: 'continue' }],
    });
  }
  const suggestions = u.candidates.slice(0, 3).map((k) => targetButton(ctx.kb, k)).filter((b) => b !== null);
  return done(s, {
    text: suggestions.length ? '抱歉，我没有完全理解。您是不是想问下面这些？也可以换个说法告诉我。' : ctx.kb.utility.scopeReply,
    quickReplies: [...suggestions, handoffButton()],
  });
}

/** Not understood, in English: the scope, a hand-off offer after two, or the closest guides. */
function englishFallback(ctx: DialogueContext, ui: EnglishUi, s: BotState, u: Understanding): Reply {
  if (u.scopeTopic) return en(ctx.kb, ui.scope);
  if (s.fallbacks >= 2) return en(ctx.kb, ui.fallbackAgain, { quickReplies: [handoffButton(ui), { title: ui.rephraseButton, postback: 'continue' }] });
  const suggestions = u.candidates.slice(0, 3).map((k) => targetButton(ctx.kb, k, 'en')).filter((b) => b !== null);
  return en(ctx.kb, suggestions.length ? ui.fallback : ui.scope, { quickReplies: [...suggestions, handoffButton(ui)] });
}

/** The answer to a progress lookup. */
export function lookupResult(ctx: DialogueContext, s: DialogueState, app: Application | null): DialogueResult {
  if (!app) return done(s, { text: `没有查到该办件，请核对办件编号和手机号。也可以拨打 ${ctx.kb.utility.hotline} 人工查询。` });
  return done(s, {
    text: `办件 ${app.ref}（${app.title}）当前状态：${statusText(app.status)}，${app.dueDate ? `预计 ${app.dueDate} 前办结` : '材料补齐、正式受理后开始计算办理时限'}。`,
    card: { type: 'application', ref: app.ref, title: app.title, status: app.status, dueDate: app.dueDate, fields: app.fields },
  });
}

/** Chinese text for an application status. */
export function statusText(status: string): string {
  return ({ submitted: '已提交，待受理', accepted: '已受理，办理中', completed: '已办结', cancelled: '已撤销' } as Record<string, string>)[status] ?? status;
}
