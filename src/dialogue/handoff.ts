import type { DialogueContext, DialogueResult, DialogueState, HandoffReason, HandoffState } from './types.js';
import { common } from './result.js';

/** Hands the conversation to a person. */
export function handoff(ctx: DialogueContext, s: DialogueState, reason: HandoffReason, note?: string): DialogueResult {
  const next: HandoffState = { ...common(s), mode: 'handoff', handoffReason: reason };
  const summary = [`原因：${reason}`, s.itemId ? `当前事项：${ctx.kb.items.get(s.itemId)?.title}` : '', note ?? ''].filter(Boolean).join('；');
  return {
    replies: [{ text: `好的，正在为您转接 ${ctx.kb.utility.hotline} 人工客服，对话记录会一并转给客服，您无需重复描述。如暂时没有空闲坐席，我们会登记回电。如需回到智能客服，请发送“返回机器人”。`, card: { type: 'handoff', reason } }],
    state: next,
    effects: [{ type: 'handoff', reason, summary }],
  };
}
