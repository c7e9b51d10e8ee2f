import type { QuickReply, Reply } from '../core/index.js';
import { HANDOFF_BUTTON, shortTitle } from './render.js';
import { advance, commitmentPrompt, currentQuestion, flowOf, prompt, startFlow } from './flow-dialogue.js';
import { skippable, summaryFields } from './questions.js';
import { done, toBot } from './result.js';
import type { DialogueContext, DialogueResult, DialogueState, FlowModeState, FlowState, HandoffState } from './types.js';

const withFlow = (s: FlowModeState, patch: Partial<FlowState>): FlowModeState => ({ ...s, flow: { ...s.flow, ...patch } });

const CONFIRM_BUTTONS: QuickReply[] = [
  { title: '确认提交', postback: 'confirm' },
  { title: '修改信息', postback: 'edit' },
  { title: '取消办理', postback: 'cancel' },
];

/** The pending question in one short reply: the question itself while asking, a one-line reminder after it. */
export function reask(ctx: DialogueContext, s: FlowModeState, lead = '我们继续办理。'): Reply {
  switch (s.flow.phase) {
    case 'asking': {
      const q = currentQuestion(ctx, s);
      if (!q) return { text: lead };
      return { text: `${lead}${q.prompt}`, quickReplies: prompt(q).quickReplies };
    }
    case 'materials':
      return { text: `${lead}上面清单里标“可容缺”的材料，您现在都能提供吗？`, quickReplies: [{ title: '都能提供', postback: 'yes' }, { title: '暂时缺少', postback: 'no' }] };
    case 'commitment':
      return { text: `${lead}您同意作出上面的告知承诺吗？`, quickReplies: commitmentPrompt(ctx, s).quickReplies };
    case 'confirm':
      return { text: `${lead}请核对上面的申请信息，确认无误请点“确认提交”。`, quickReplies: CONFIRM_BUTTONS };
    case 'submitting':
      return { text: '正在提交，请稍候…' };
  }
}

/** Where the application in progress stands: its title and answers so far, then the pending question. */
export function recap(ctx: DialogueContext, s: FlowModeState, greeting = ''): DialogueResult {
  const flow = flowOf(ctx, s);
  const rows = summaryFields(flow, s.flow.answers);
  const filled = rows.length ? `已填写：${rows.map((r) => `${r.label}：${r.value}`).join('；')}。` : '还没有填写任何信息。';
  return done(withFlow(s, { switchTo: undefined }), { text: `${greeting}您正在办理「${shortTitle(flow.title)}」，${filled}` }, reask(ctx, s, '我们接着来：'));
}

function targetTitle(ctx: DialogueContext, target: string): string {
  const [kind, id] = target.split(':') as [string, string];
  const title = kind === 'flow' ? ctx.kb.flows.get(id)?.title : ctx.kb.items.get(id)?.title;
  if (kind === 'apply') return `${shortTitle(title ?? id)}（单独申请）`;
  return shortTitle(title ?? id);
}

/** Asks before abandoning the application in progress for another. */
export function askSwitch(ctx: DialogueContext, s: FlowModeState, target: string, start: (s: DialogueState, target: string) => DialogueResult): DialogueResult {
  const flow = flowOf(ctx, s);
  const n = Object.keys(s.flow.answers).length;
  // Nothing answered yet: nothing to lose.
  if (!n) return start(toBot(s), target);
  const next = withFlow(s, { switchTo: target });
  const other = targetTitle(ctx, target);
  return done(next, {
    text: `您正在办理「${shortTitle(flow.title)}」${n ? `（已填写 ${n} 项）` : ''}。要放弃它，改办「${other}」吗？放弃后已填写的信息不会保存。`,
    quickReplies: [
      { title: '继续当前办理', postback: 'stay' },
      { title: `改办「${other}」`, postback: 'switch' },
    ],
  });
}

/** Abandons the application in progress and starts the other one. */
export function switchFlow(ctx: DialogueContext, s: FlowModeState, start: (s: DialogueState, target: string) => DialogueResult): DialogueResult {
  const target = s.flow.switchTo;
  if (!target) return recap(ctx, s);
  return start(toBot(s), target);
}

/** Keeps the application in progress. */
export function stay(ctx: DialogueContext, s: FlowModeState): DialogueResult {
  return done(withFlow(s, { switchTo: undefined }), reask(ctx, withFlow(s, { switchTo: undefined }), '好的，继续当前办理。'));
}

/** A wrong answer: why and the help; from the second, an example; from the third, 转人工 and "跳过，稍后补充". */
export function invalid(ctx: DialogueContext, s: FlowModeState, reason: string): DialogueResult {
  const q = currentQuestion(ctx, s);
  if (!q) return advance(ctx, s, []);
  const failures = (s.flow.failures ?? 0) + 1;
  const next = withFlow(s, { failures });
  const help = q.help ? `\n${q.help}` : '';
  if (failures === 1) return done(next, { text: `${reason}${help}` }, prompt(q));
  const example = /例如/.test(q.help ?? '') || q.type === 'yes-no' || q.type === 'choice' ? '' : '\n请按提示的格式填写。';
  const why = `还是没能识别：${reason}。${help}${example}`;
  if (failures === 2) return done(next, { text: why }, prompt(q));
  const buttons: QuickReply[] = [...(prompt(q).quickReplies ?? []), ...(skippable(q) ? [{ title: '跳过，稍后补充', postback: 'skip' }] : []), { ...HANDOFF_BUTTON, postback: 'handoff:stuck' }];
  const way = skippable(q) ? '可以先跳过、稍后补充，或转人工帮您处理。' : '可以转人工帮您处理。';
  return done(next, { text: `${why}\n如果一时弄不清，${way}` }, { text: q.prompt, quickReplies: buttons });
}

/** Leaves the current question for later: it shows as 待补充 and the applicant is asked for it after submitting. */
export function skip(ctx: DialogueContext, s: FlowModeState): DialogueResult {
  const q = currentQuestion(ctx, s);
  if (!q || !skippable(q)) return done(s, reask(ctx, s, '这一项需要现在填写。'));
  const skipped = [...new Set([...(s.flow.skipped ?? []), q.id])];
  const answered = s.flow.answered.includes(q.id) ? s.flow.answered : [...s.flow.answered, q.id];
  return advance(ctx, withFlow(s, { answers: { ...s.flow.answers, [q.id]: '' }, answered, skipped }), [{ text: `好的，${q.label}先跳过，提交后受理人员会联系您补充。` }]);
}

/** A side answer, then the pending question in one short line (not the whole checklist or summary again). */
export function sideAnswer(ctx: DialogueContext, s: FlowModeState, reply: Reply): DialogueResult {
  return done(s, reply, reask(ctx, s));
}

/** A hint when a message at the materials, 告知承诺 or summary step answers nothing, and the step again. */
export function phaseAgain(ctx: DialogueContext, s: FlowModeState, side?: Reply): DialogueResult {
  return done(s, side ?? { text: '请选择下面的按钮继续，或说“修改”“取消办理”。' }, reask(ctx, s, side ? '我们继续办理。' : ''));
}

/** Back from a person: the application kept at the hand-off, where it was. */
export function resume(ctx: DialogueContext, s: HandoffState): DialogueResult {
  if (!s.suspended) return done(toBot(s), { text: '好的，已回到智能客服。请问还有什么可以帮您？' });
  const back: FlowModeState = { ...toBot(s), mode: 'flow', flow: s.suspended };
  return recap(ctx, back, '好的，回到刚才的办理。');
}

export { startFlow };
