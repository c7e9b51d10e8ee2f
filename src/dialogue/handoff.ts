import type { Reply } from '../core/index.js';
import type { EnglishUi } from '../knowledge/index.js';
import { en, englishUi, fill } from './english.js';
import { flowDef } from './flow-dialogue.js';
import { shortTitle } from './render.js';
import { common, done } from './result.js';
import type { DialogueContext, DialogueResult, DialogueState, FlowState, HandoffReason, HandoffState } from './types.js';

const RESUME_BUTTON = { title: '继续办理', postback: 'resume' };
const resumeButton = (ui: EnglishUi) => ({ ...RESUME_BUTTON, title: ui.handoff.resumeButton });

function pausedLine(ctx: DialogueContext, flow: FlowState | undefined): string {
  const title = flow && flowDef(ctx, flow)?.title;
  const ui = englishUi(ctx);
  if (ui) return title ? fill(ctx.kb, ui.handoff.paused, { title: shortTitle(title) }) : ui.handoff.backToBot;
  return title ? `您刚才的「${shortTitle(title)}」办理进度已保存，发送“继续办理”即可接着办。` : '如需回到智能客服，请发送“返回机器人”。';
}

/** Hands the conversation to a person; an application in progress is kept to resume. */
export function handoff(ctx: DialogueContext, s: DialogueState, reason: HandoffReason, note?: string, guide?: Reply): DialogueResult {
  const suspended = s.mode === 'flow' ? s.flow : s.mode === 'handoff' ? s.suspended : undefined;
  const next: HandoffState = { ...common(s), mode: 'handoff', handoffReason: reason, ...(suspended ? { suspended } : {}) };
  const summary = [`原因：${reason}`, s.itemId ? `当前事项：${ctx.kb.items.get(s.itemId)?.title}` : '', note ?? ''].filter(Boolean).join('；');
  const { hotline } = ctx.kb.utility;
  const ui = englishUi(ctx);
  if (ui) {
    const text = [fill(ctx.kb, ui.handoff[reason === 'urgent' || reason === 'complaint' ? reason : 'asked']), ui.handoff.callback, pausedLine(ctx, suspended)].join(' ');
    const reply = en(ctx.kb, text, { card: { type: 'handoff', reason }, ...(suspended ? { quickReplies: [resumeButton(ui)] } : {}) });
    return { replies: [...(guide ? [guide] : []), reply], state: next, effects: [{ type: 'handoff', reason, summary }] };
  }
  const lead =
    reason === 'urgent'
      ? `情况紧急，请立即拨打 ${hotline} 供水服务热线（24 小时），同时正在为您转接人工客服。`
      : reason === 'complaint'
        ? `您的投诉我们非常重视，正在为您转接 ${hotline} 人工客服，对话记录会一并转给客服，您无需重复描述。`
        : `好的，正在为您转接 ${hotline} 人工客服，对话记录会一并转给客服，您无需重复描述。`;
  const text = [lead, '如暂时没有空闲坐席，我们会登记回电。', pausedLine(ctx, suspended)].join('');
  return {
    replies: [...(guide ? [guide] : []), { text, card: { type: 'handoff', reason }, ...(suspended ? { quickReplies: [RESUME_BUTTON] } : {}) }],
    state: next,
    effects: [{ type: 'handoff', reason, summary }],
  };
}

/** A message while waiting for a person: how to reach the hotline now, and how to carry on. */
export function handoffNotice(ctx: DialogueContext, s: HandoffState, urgent: boolean): DialogueResult {
  const { hotline, hotlineHours } = ctx.kb.utility;
  const ui = englishUi(ctx);
  if (ui) {
    const back = s.suspended ? resumeButton(ui) : { title: ui.handoff.backToBotButton, postback: 'resume' };
    return done(s, en(ctx.kb, `${urgent ? ui.handoff.noticeUrgent : ui.handoff.notice} ${pausedLine(ctx, s.suspended)}`, { quickReplies: [back] }));
  }
  const lead = urgent ? `情况紧急请立即拨打 ${hotline}（${hotlineHours}）。` : `已为您转接人工客服，请稍候；着急的话可以直接拨打 ${hotline} 供水服务热线（${hotlineHours}）。`;
  return done(s, { text: `${lead}${pausedLine(ctx, s.suspended)}`, quickReplies: [s.suspended ? RESUME_BUTTON : { title: '返回机器人', postback: 'resume' }] });
}
