import type { Application, ChecklistEntry, QuickReply, Reply } from '../core/index.js';
import type { Understanding } from '../nlu/index.js';
import type { Flow, Step } from '../knowledge/index.js';
import { dueDate } from './dates.js';
import { handoff } from './engine.js';
import { checklistOf, itemsOf, nextStep, nextStepsOf, prune, routeOf, stepNamedIn, summaryFields, timeLimitOf } from './flow-logic.js';
import { aspectText, materialLine, shortTitle } from './render.js';
import { checkSlot, checkYesNo, displayValue, type SlotValue } from './slots.js';
import type { DialogueContext, DialogueResult, DialogueState } from './types.js';

const CANCEL = /^(取消|取消办理|取消申请|不办了|我不办了|不想办了|退出|退出办理|结束办理|算了不办了)$/;
const BACK = /^(返回|上一步|返回上一步|回到上一步|后退|退回上一步)$/;
const EDIT = /(改一下|修改|更改|改成|改为|填错|写错|输错|错了|换一下|重新填|重填)/;
const QUESTION = /[?？]|吗|呢|怎么|多少|多久|要不要|能不能|是否|什么|哪|几/;
const FREE_TEXT = new Set(['name', 'address', 'text']);
const MATERIALS_MISSING = /缺|不全|不齐/;
const MATERIALS_ALL = /能提供|都有|齐全|带齐/;

function done(s: DialogueState, ...replies: Reply[]): DialogueResult {
  return { replies, state: s, effects: [] };
}

function flowOf(ctx: DialogueContext, s: DialogueState): Flow {
  return ctx.kb.flows.get(s.flow!.id)!;
}

/** Starts a 一件事: intro, then the first question. */
export function startFlow(ctx: DialogueContext, s: DialogueState, flowId: string): DialogueResult {
  const flow = ctx.kb.flows.get(flowId)!;
  s.mode = 'flow';
  s.fallbacks = 0;
  s.flow = { id: flowId, answers: {}, stepId: null, phase: 'asking', history: [], editing: false };
  const intro = flow.intro ?? `好的，我来帮您办理「${shortTitle(flow.title)}」，一张表一次办好。`;
  const tip = '过程中可以随时说“返回上一步”“修改手机号”“取消办理”，也可以插问其他问题。';
  return advance(ctx, s, [{ text: `${intro}\n${tip}` }]);
}

/** The question for a step, with buttons for choices and yes/no. */
function prompt(step: Step): Reply {
  if (step.type === 'choice') return { text: step.prompt, quickReplies: (step.options ?? []).map((o) => ({ title: o.label, postback: `opt:${o.value}` })) };
  if (step.type === 'yes-no') return { text: step.prompt, quickReplies: [{ title: '是', postback: 'yes' }, { title: '否', postback: 'no' }] };
  return { text: step.prompt };
}

/** Moves to the next unanswered step, or to the materials and confirmation. */
function advance(ctx: DialogueContext, s: DialogueState, replies: Reply[]): DialogueResult {
  const flow = flowOf(ctx, s);
  const f = s.flow!;
  f.answers = prune(flow, f.answers);
  const next = nextStep(flow, f.answers);
  if (next) {
    f.phase = 'asking';
    f.stepId = next.id;
    return done(s, ...replies, prompt(next));
  }
  f.stepId = null;
  // Answers that bring in no service item leave nothing to apply for: say so instead of submitting an empty application.
  if (!itemsOf(flow, f.answers).length) return nothingToFile(s, flow, replies);
  // Back at the summary after a change, unless the change brought other materials: then they are shown and asked again.
  if (f.editing && f.missingOptional !== undefined && f.checklistKey === checklistKey(checklistOf(ctx.kb, flow, f.answers))) return confirm(ctx, s, replies);
  return materials(ctx, s, replies);
}

function nothingToFile(s: DialogueState, flow: Flow, replies: Reply[]): DialogueResult {
  const route = routeOf(flow, s.flow!.answers);
  s.mode = 'bot';
  s.flow = undefined;
  return done(s, ...replies, {
    text: [route ? `根据您的情况：${route.summary}` : '', '按您的回答，这次没有需要办理的用水事项，无需提交申请。情况有变时，随时可以再来办理。'].filter(Boolean).join('\n'),
    quickReplies: [{ title: '重新填写', postback: `flow:${flow.id}` }],
  });
}

function checklistKey(list: ChecklistEntry[]): string {
  return list.map((m) => `${m.name}:${m.requirement}`).join('|');
}

function materials(ctx: DialogueContext, s: DialogueState, replies: Reply[]): DialogueResult {
  const flow = flowOf(ctx, s);
  const f = s.flow!;
  const list = checklistOf(ctx.kb, flow, f.answers);
  const route = routeOf(flow, f.answers);
  const head = route ? `根据您的情况，将按「${route.title}」办理：${route.summary}` : '';
  const card: Reply = list.length
    ? {
        text: [head, '需要准备的材料：', ...list.map((m, i) => `${i + 1}. ${materialLine(m)}`)].filter(Boolean).join('\n'),
        card: { type: 'checklist', title: '材料清单', entries: list.map((m) => ({ name: m.name, requirement: m.requirement, commitment: m.commitment })) },
      }
    : { text: [head, '本次办理无需提交任何材料。'].filter(Boolean).join('\n') };
  const optional = list.filter((m) => m.requirement === '可容缺');
  f.checklistKey = checklistKey(list);
  if (optional.length && flow.commitment) {
    f.phase = 'materials';
    return done(s, ...replies, card, {
      text: `其中标“可容缺”的材料（${optional.map((m) => m.name).join('、')}）您现在都能提供吗？`,
      quickReplies: [{ title: '都能提供', postback: 'yes' }, { title: '暂时缺少', postback: 'no' }],
    });
  }
  f.missingOptional = false;
  return confirm(ctx, s, [...replies, card]);
}

function commitmentPrompt(ctx: DialogueContext, s: DialogueState): Reply {
  const c = flowOf(ctx, s).commitment!;
  const deadline = dueDate(ctx.now, c.days, '自然日');
  return {
    text: `可以先办后补。请阅读告知承诺书：\n${c.text}\n承诺期限：${c.days} 天（${deadline} 前补齐）。您同意作出承诺吗？`,
    quickReplies: [{ title: '同意承诺', postback: 'commit:accept' }, { title: '不同意', postback: 'commit:decline' }],
  };
}

function confirm(ctx: DialogueContext, s: DialogueState, replies: Reply[]): DialogueResult {
  const flow = flowOf(ctx, s);
  const f = s.flow!;
  f.phase = 'confirm';
  f.editing = false;
  const fields = summaryFields(flow, f.answers);
  const route = routeOf(flow, f.answers);
  const items = itemsOf(flow, f.answers).map((id) => ctx.kb.items.get(id)!.title);
  const limit = timeLimitOf(ctx.kb, flow, f.answers, ctx.now);
  const rows = [...fields, ...(route ? [{ label: '办理方式', value: route.title }] : []), { label: '联办事项', value: items.join('、') }, { label: '预计办结', value: limit.value === 0 ? `即时办结（${limit.due}）` : `${limit.value} 个${limit.unit}内（${limit.due} 前）` }];
  return done(s, ...replies, {
    text: ['请核对申请信息（一表申请）：', ...rows.map((r) => `${r.label}：${r.value}`), '确认无误请点“确认提交”。'].join('\n'),
    card: { type: 'summary', title: flow.title, fields: rows },
    quickReplies: [{ title: '确认提交', postback: 'confirm' }, { title: '修改信息', postback: 'edit' }, { title: '取消办理', postback: 'cancel' }],
  });
}

function submit(ctx: DialogueContext, s: DialogueState): DialogueResult {
  const flow = flowOf(ctx, s);
  const f = s.flow!;
  f.phase = 'submitting';
  const limit = timeLimitOf(ctx.kb, flow, f.answers, ctx.now);
  const checklist = checklistOf(ctx.kb, flow, f.answers);
  const promiseBy = flow.commitment ? dueDate(ctx.now, flow.commitment.days, '自然日') : undefined;
  const mobileStep = flow.steps.find((st) => st.type === 'mobile' && st.id in f.answers);
  const draft: Omit<Application, 'ref'> = {
    flowId: flow.id,
    title: flow.title,
    conversationId: ctx.conversationId,
    answers: { ...f.answers },
    fields: summaryFields(flow, f.answers),
    route: routeOf(flow, f.answers)?.id,
    items: itemsOf(flow, f.answers),
    checklist: checklist.map((m) => (m.requirement === '可容缺' && f.missingOptional && f.commitmentAccepted && promiseBy ? { ...m, promised: { dueBy: promiseBy } } : m)),
    commitment: f.missingOptional ? { accepted: !!f.commitmentAccepted, dueBy: f.commitmentAccepted ? promiseBy : undefined, text: flow.commitment?.text } : undefined,
    mobile: mobileStep ? String(f.answers[mobileStep.id]) : '',
    status: 'submitted',
    submittedAt: ctx.now.toISOString(),
    dueDate: limit.due,
    timeLimit: { value: limit.value, unit: limit.unit },
    nextSteps: nextStepsOf(flow, f.answers),
  };
  return { replies: [], state: s, effects: [{ type: 'create-application', draft }] };
}

/** After the application is stored: the reference number, due date and next steps. */
export function finishApplication(ctx: DialogueContext, s: DialogueState, app: Application): DialogueResult {
  s.mode = 'bot';
  s.flow = undefined;
  s.applications.push(app.ref);
  // Follow-ups after submitting ("那要多久") are about the main item of this application: its route's, else the first.
  const routeItems = ctx.kb.flows.get(app.flowId)?.routes.find((r) => r.id === app.route)?.items ?? [];
  s.itemId = routeItems.find((i) => app.items.includes(i)) ?? app.items[0] ?? s.itemId;
  const promised = app.checklist.filter((m) => m.promised);
  const lines = [
    `申请已提交！办件编号：${app.ref}`,
    app.timeLimit.value === 0 ? `预计办结时间：${app.dueDate}（即时办结）` : `预计办结时间：${app.dueDate} 前（${app.timeLimit.value} 个${app.timeLimit.unit}）`,
    ...(promised.length ? [`请在 ${promised[0]!.promised!.dueBy} 前补齐：${promised.map((m) => m.name).join('、')}`] : []),
    '接下来：',
    ...app.nextSteps.map((t, i) => `${i + 1}. ${t}`),
    `可随时发送办件编号并验证手机号查询进度，或拨打 ${ctx.kb.utility.hotline}。`,
  ];
  return done(s, {
    text: lines.join('\n'),
    card: { type: 'application', ref: app.ref, title: app.title, status: app.status, dueDate: app.dueDate, fields: app.fields },
  });
}

function cancel(s: DialogueState): DialogueResult {
  s.mode = 'bot';
  s.flow = undefined;
  return done(s, { text: '已取消本次办理，已填写的信息不会提交。还有什么可以帮您？' });
}

function back(ctx: DialogueContext, s: DialogueState): DialogueResult {
  const f = s.flow!;
  const last = f.history.pop();
  if (!last) return done(s, { text: '已经是第一步了。' }, prompt(flowOf(ctx, s).steps.find((st) => st.id === f.stepId) ?? flowOf(ctx, s).steps[0]!));
  delete f.answers[last];
  f.editing = false;
  f.missingOptional = undefined;
  return advance(ctx, s, [{ text: '好的，回到上一步。' }]);
}

function editChoices(ctx: DialogueContext, s: DialogueState): DialogueResult {
  const flow = flowOf(ctx, s);
  const buttons: QuickReply[] = flow.steps.filter((st) => st.id in s.flow!.answers).map((st) => ({ title: st.label, postback: `edit:${st.id}` }));
  return done(s, { text: '请问要修改哪一项？', quickReplies: buttons });
}

function edit(ctx: DialogueContext, s: DialogueState, step: Step, text?: string): DialogueResult {
  const f = s.flow!;
  const wasConfirming = f.phase === 'confirm' || f.phase === 'materials' || f.phase === 'commitment';
  if (text) {
    const r = checkSlot(text.replace(EDIT, ' '), step, ctx.kb.utility, ctx.now);
    if (r.ok && step.type !== 'yes-no' && !FREE_TEXT.has(step.type)) {
      f.answers[step.id] = r.value;
      f.editing = wasConfirming || f.editing;
      return advance(ctx, s, [{ text: `已将${step.label}改为 ${displayValue(step, r.value)}。` }]);
    }
  }
  delete f.answers[step.id];
  f.history = f.history.filter((h) => h !== step.id);
  f.editing = wasConfirming || f.editing;
  f.phase = 'asking';
  f.stepId = step.id;
  return done(s, { text: `好的，重新填写${step.label}。` }, prompt(step));
}

/** A guide answer when the text is a question the classifier placed, given its understanding of the text. */
function sideQuestion(ctx: DialogueContext, text: string, u: Understanding): Reply | null {
  if (!QUESTION.test(text)) return null;
  if (u.decision !== 'answer' || !u.itemId) return null;
  const item = ctx.kb.items.get(u.itemId)!;
  return { text: u.aspect ? aspectText(ctx.kb, item, u.aspect) : item.answer };
}

function accept(ctx: DialogueContext, s: DialogueState, step: Step, value: SlotValue): DialogueResult {
  const f = s.flow!;
  f.answers[step.id] = value;
  if (!f.history.includes(step.id)) f.history.push(step.id);
  return advance(ctx, s, []);
}

/** Handles typed text while a 一件事 is in progress. */
export function runFlowText(ctx: DialogueContext, s: DialogueState, text: string): DialogueResult {
  const flow = flowOf(ctx, s);
  const f = s.flow!;
  const compact = text.replace(/\s/g, '');
  if (CANCEL.test(compact) || compact.includes('取消办理') || compact.includes('不办了')) return cancel(s);
  if (BACK.test(compact)) return back(ctx, s);
  const u = ctx.classifier.classify(text);
  if (u.decision === 'handoff') return handoff(ctx, s, 'user-request', `办理中：${flow.title}`);
  const current = flow.steps.find((st) => st.id === f.stepId);
  if (EDIT.test(compact)) {
    const named = stepNamedIn(flow, f.answers, text) ?? (current && stepNamedIn({ ...flow, steps: [current] }, { [current.id]: '' }, text));
    if (named) return edit(ctx, s, named, text);
    if (f.phase !== 'asking') return editChoices(ctx, s);
  }
  switch (f.phase) {
    case 'materials':
    case 'commitment':
    case 'confirm':
      return phaseAnswer(ctx, s, text, u);
    case 'submitting':
      return done(s, { text: '正在提交，请稍候…' });
  }
  if (!current) return advance(ctx, s, []);
  // Free text accepts almost anything, and a choice matches option words inside a question ("过户要钱吗？" at 户名变更):
  // a question about a guide is answered first there.
  const asks = FREE_TEXT.has(current.type) || ((current.type === 'choice' || current.type === 'yes-no') && u.aspect !== null);
  const side = asks ? sideQuestion(ctx, text, u) : null;
  if (side) return done(s, side, { text: `我们继续办理。${current.prompt}`, quickReplies: prompt(current).quickReplies });
  const r = checkSlot(text, current, ctx.kb.utility, ctx.now);
  if (r.ok) return accept(ctx, s, current, r.value);
  const answer = sideQuestion(ctx, text, u);
  if (answer) return done(s, answer, { text: `我们继续办理。${current.prompt}`, quickReplies: prompt(current).quickReplies });
  return done(s, { text: `${r.reason}${current.help ? `\n${current.help}` : ''}` }, prompt(current));
}

function phaseAnswer(ctx: DialogueContext, s: DialogueState, text: string, u: Understanding): DialogueResult {
  const f = s.flow!;
  const yn = checkYesNo(text);
  if (f.phase === 'confirm') {
    if (/提交|确认|没问题|对的|正确/.test(text) || (yn.ok && yn.value === true)) return submit(ctx, s);
    if (yn.ok && yn.value === false) return editChoices(ctx, s);
  } else if (yn.ok) {
    return phasePostback(ctx, s, f.phase === 'materials' ? (yn.value ? 'yes' : 'no') : yn.value ? 'commit:accept' : 'commit:decline');
  } else if (f.phase === 'materials' && (MATERIALS_MISSING.test(text) || MATERIALS_ALL.test(text))) {
    // The buttons' own titles, typed: 都能提供 / 暂时缺少.
    return phasePostback(ctx, s, MATERIALS_MISSING.test(text) ? 'no' : 'yes');
  }
  const side = sideQuestion(ctx, text, u);
  const again = f.phase === 'confirm' ? confirm(ctx, s, []) : f.phase === 'materials' ? materials(ctx, s, []) : done(s, commitmentPrompt(ctx, s));
  if (side) again.replies.unshift(side);
  else again.replies.unshift({ text: '请选择下面的按钮继续，或说“修改”“取消办理”。' });
  return again;
}

function phasePostback(ctx: DialogueContext, s: DialogueState, payload: string): DialogueResult {
  const f = s.flow!;
  if (f.phase === 'materials' && (payload === 'yes' || payload === 'no')) {
    f.missingOptional = payload === 'no';
    if (!f.missingOptional) return confirm(ctx, s, [{ text: '好的，请在受理时一并提交全部材料。' }]);
    f.phase = 'commitment';
    return done(s, commitmentPrompt(ctx, s));
  }
  if (f.phase === 'commitment' && payload.startsWith('commit:')) {
    f.commitmentAccepted = payload === 'commit:accept';
    const note = f.commitmentAccepted ? '已记录您的承诺，可容缺材料请在承诺期限内补齐。' : '好的，不作承诺的话，可容缺材料需要在受理前补齐，受理后才开始计算办理时限。';
    return confirm(ctx, s, [{ text: note }]);
  }
  if (f.phase === 'confirm' && payload === 'confirm') return submit(ctx, s);
  return runFlowText(ctx, s, payload);
}

/** Handles a button press while a 一件事 is in progress. */
export function runFlowPostback(ctx: DialogueContext, s: DialogueState, payload: string): DialogueResult {
  const flow = flowOf(ctx, s);
  const f = s.flow!;
  if (payload === 'cancel') return cancel(s);
  if (payload === 'back') return back(ctx, s);
  if (payload === 'edit') return editChoices(ctx, s);
  if (payload.startsWith('edit:')) {
    const st = flow.steps.find((x) => x.id === payload.slice(5));
    return st ? edit(ctx, s, st) : editChoices(ctx, s);
  }
  if (f.phase !== 'asking') return phasePostback(ctx, s, payload);
  const current = flow.steps.find((st) => st.id === f.stepId);
  if (current && payload.startsWith('opt:')) {
    const value = payload.slice(4);
    if (current.options?.some((o) => o.value === value)) return accept(ctx, s, current, value);
  }
  if (current && current.type === 'yes-no' && (payload === 'yes' || payload === 'no')) return accept(ctx, s, current, payload === 'yes');
  if (payload.startsWith('item:') && current) {
    const [, id, aspect] = payload.split(':');
    const item = ctx.kb.items.get(id ?? '');
    if (item) return done(s, { text: aspect ? aspectText(ctx.kb, item, aspect as never) : item.answer }, { text: `我们继续办理。${current.prompt}`, quickReplies: prompt(current).quickReplies });
  }
  if (payload.startsWith('flow:') && ctx.kb.flows.has(payload.slice(5))) return startFlow(ctx, s, payload.slice(5));
  return runFlowText(ctx, s, payload);
}

