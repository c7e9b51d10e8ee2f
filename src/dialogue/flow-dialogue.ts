import type { Application, ChecklistEntry, QuickReply, Reply } from '../core/index.js';
import type { Flow, Question } from '../knowledge/index.js';
import { checklistOf, commitmentOf, itemsOf, nextStepsOf, routeOf, timeLimitOf } from './flow-logic.js';
import { nextQuestion, prune, questionById, summaryFields } from './questions.js';
import { dueText, materialLine, shortTitle, unverifiedText } from './render.js';
import { prefill, prefillLine } from './prefill.js';
import { done, toBot } from './result.js';
import { controlsOf } from './controls.js';
import { checkSlot, displayValue, type SlotEnv, type SlotValue } from './slots.js';
import type { DialogueContext, DialogueResult, DialogueState, FlowModeState, FlowState } from './types.js';

/** The flow definition of the application in progress. */
export function flowOf(ctx: DialogueContext, s: FlowModeState): Flow {
  return flowDef(ctx, s.flow)!;
}

/** The definition of an application in progress: a 一件事, or a single item's own application. */
export function flowDef(ctx: DialogueContext, f: Pick<FlowState, 'id' | 'single'>): Flow | undefined {
  return f.single ? ctx.kb.applications.get(f.id.replace(/^apply-/, '')) : ctx.kb.flows.get(f.id);
}

/** The question being asked now, if any. */
export function currentQuestion(ctx: DialogueContext, s: FlowModeState): Question | undefined {
  return questionById(flowOf(ctx, s), s.flow.questionId);
}

/** What checking an answer reads. */
export function slotEnv(ctx: DialogueContext): SlotEnv {
  return { utility: ctx.kb.utility, controls: controlsOf(ctx.kb), now: ctx.now };
}

const withFlow = (s: FlowModeState, patch: Partial<FlowState>): FlowModeState => ({ ...s, flow: { ...s.flow, ...patch } });

/** Starts a 一件事: intro, then the first question. */
export function startFlow(ctx: DialogueContext, s: DialogueState, flowId: string, opts: { single?: boolean; opening?: string } = {}): DialogueResult {
  const single = opts.single === true;
  const flow = flowDef(ctx, { id: flowId, single })!;
  // Whatever the opening message already settles (district, DN, dates, counts, yes/no choices) is not asked again.
  const answers = opts.opening ? prefill(flow, opts.opening, ctx.kb.utility, ctx.now, (c) => controlsOf(ctx.kb).isQuestion(c)) : {};
  const next: FlowModeState = {
    ...toBot(s),
    mode: 'flow',
    fallbacks: 0,
    flow: { id: single ? flow.id : flowId, ...(single ? { single } : {}), answers, questionId: null, phase: 'asking', answered: Object.keys(answers), editing: false },
  };
  const intro = flow.intro ?? `好的，我来帮您办理「${shortTitle(flow.title)}」，一张表一次办好。`;
  const tip = '过程中可以随时说“返回上一步”“修改手机号”“取消办理”，也可以插问其他问题。';
  const filled = Object.keys(answers).length ? `\n根据您的描述，已为您填好：${prefillLine(flow, answers)}。不对的话随时说“修改”。` : '';
  const bundle = single ? ctx.kb.bundles.get(flowId) : undefined;
  const bundleFlow = bundle && ctx.kb.flows.get(bundle.flow);
  const offer: Reply[] = bundleFlow ? [{ text: bundle.text, quickReplies: [{ title: `一次办好：${shortTitle(bundleFlow.title)}`, postback: `flow:${bundleFlow.id}` }] }] : [];
  return advance(ctx, next, [{ text: `${intro}\n${tip}${filled}` }, ...offer]);
}

/** The question for a flow's question, with buttons for choices and yes/no. */
export function prompt(q: Question): Reply {
  if (q.type === 'choice') return { text: q.prompt, quickReplies: (q.options ?? []).map((o) => ({ title: o.label, postback: `opt:${o.value}` })) };
  if (q.type === 'yes-no') return { text: q.prompt, quickReplies: [{ title: '是', postback: 'yes' }, { title: '否', postback: 'no' }] };
  return { text: q.prompt };
}

/** Moves to the next unanswered question, or to the materials and confirmation. */
export function advance(ctx: DialogueContext, s: FlowModeState, replies: Reply[]): DialogueResult {
  const flow = flowOf(ctx, s);
  const answers = prune(flow, s.flow.answers);
  const next = nextQuestion(flow, answers);
  if (next) return done(withFlow(s, { answers, phase: 'asking', questionId: next.id, failures: next.id === s.flow.questionId ? s.flow.failures : 0 }), ...replies, prompt(next));
  const at = withFlow(s, { answers, questionId: null });
  // Answers that bring in no service item leave nothing to apply for: say so instead of submitting an empty application.
  if (!itemsOf(flow, answers).length) return nothingToFile(at, flow, replies);
  // Back at the summary after a change, unless the change brought other materials: then they are shown and asked again.
  if (at.flow.editing && at.flow.missingOptional !== undefined && at.flow.checklistKey === checklistKey(checklistOf(ctx.kb, flow, answers))) return confirm(ctx, at, replies);
  return materials(ctx, at, replies);
}

function nothingToFile(s: FlowModeState, flow: Flow, replies: Reply[]): DialogueResult {
  const route = routeOf(flow, s.flow.answers);
  return done(toBot(s), ...replies, {
    text: [route ? `根据您的情况：${route.summary}` : '', '按您的回答，这次没有需要办理的用水事项，无需提交申请。情况有变时，随时可以再来办理。'].filter(Boolean).join('\n'),
    quickReplies: [{ title: '重新填写', postback: `flow:${flow.id}` }],
  });
}

function checklistKey(list: ChecklistEntry[]): string {
  return list.map((m) => `${m.name}:${m.requirement}`).join('|');
}

/** Shows the checklist; asks about 可容缺 materials where the flow allows 告知承诺, else goes to the summary. */
export function materials(ctx: DialogueContext, s: FlowModeState, replies: Reply[]): DialogueResult {
  const flow = flowOf(ctx, s);
  const list = checklistOf(ctx.kb, flow, s.flow.answers);
  const route = routeOf(flow, s.flow.answers);
  const head = route ? `根据您的情况，将按「${route.title}」办理：${route.summary}` : '';
  const card: Reply = list.length
    ? {
        text: [head, '需要准备的材料：', ...list.map((m, i) => `${i + 1}. ${materialLine(m)}`)].filter(Boolean).join('\n'),
        card: { type: 'checklist', title: '材料清单', entries: list.map((m) => ({ name: m.name, requirement: m.requirement, commitment: m.commitment })) },
      }
    : { text: [head, '本次办理无需提交任何材料。'].filter(Boolean).join('\n') };
  // 告知承诺 only where an item of this application allows it and one of its 可容缺 materials is on the list.
  const terms = commitmentOf(ctx.kb, flow, s.flow.answers, ctx.now);
  const keyed = withFlow(s, { checklistKey: checklistKey(list) });
  if (terms) {
    return done(withFlow(keyed, { phase: 'materials' }), ...replies, card, {
      text: `其中标“可容缺”的材料（${terms.materials.join('、')}）您现在都能提供吗？`,
      quickReplies: [{ title: '都能提供', postback: 'yes' }, { title: '暂时缺少', postback: 'no' }],
    });
  }
  return confirm(ctx, withFlow(keyed, { missingOptional: false }), [...replies, card]);
}

/** The 告知承诺 text and its deadline, with accept / decline buttons. */
export function commitmentPrompt(ctx: DialogueContext, s: FlowModeState): Reply {
  const c = commitmentOf(ctx.kb, flowOf(ctx, s), s.flow.answers, ctx.now)!;
  const period = `${c.days} 天（${c.dueBy} 前补齐）`;
  return {
    text: `可以先办后补。请阅读告知承诺书：\n${c.text}\n承诺期限：${c.unverified ? unverifiedText(period) : period}。您同意作出承诺吗？`,
    quickReplies: [{ title: '同意承诺', postback: 'commit:accept' }, { title: '不同意', postback: 'commit:decline' }],
  };
}

/** The summary of every answer, with submit / edit / cancel. */
export function confirm(ctx: DialogueContext, s: FlowModeState, replies: Reply[]): DialogueResult {
  const flow = flowOf(ctx, s);
  const { answers } = s.flow;
  const fields = summaryFields(flow, answers);
  const route = routeOf(flow, answers);
  const items = itemsOf(flow, answers).map((id) => ctx.kb.items.get(id)!.title);
  const limit = timeLimitOf(ctx.kb, flow, answers, ctx.now, { awaitingMaterials: awaitingMaterials(s.flow) });
  const rows = [...fields, ...(route ? [{ label: '办理方式', value: route.title }] : []), { label: '联办事项', value: items.join('、') }, { label: '预计办结', value: dueText(limit) }];
  return done(withFlow(s, { phase: 'confirm', editing: false }), ...replies, {
    text: ['请核对申请信息（一表申请）：', ...rows.map((r) => `${r.label}：${r.value}`), '确认无误请点“确认提交”。'].join('\n'),
    card: { type: 'summary', title: flow.title, fields: rows },
    quickReplies: [{ title: '确认提交', postback: 'confirm' }, { title: '修改信息', postback: 'edit' }, { title: '取消办理', postback: 'cancel' }],
  });
}

/** 告知承诺 declined with 可容缺 materials missing: the time limit starts on acceptance. */
const awaitingMaterials = (f: FlowState): boolean => f.missingOptional === true && f.commitmentAccepted === false;

/** The next step for answers left for later ("跳过，稍后补充"). */
function pendingOf(flow: Flow, f: FlowState): string[] {
  const labels = flow.questions.filter((q) => f.skipped?.includes(q.id) && f.answers[q.id] === '').map((q) => q.label);
  return labels.length ? [`请补充：${labels.join('、')}。受理人员会电话联系您，也可以在线补充。`] : [];
}

/** Asks the caller to store the application. */
export function submit(ctx: DialogueContext, s: FlowModeState): DialogueResult {
  const flow = flowOf(ctx, s);
  const f = s.flow;
  const limit = timeLimitOf(ctx.kb, flow, f.answers, ctx.now, { awaitingMaterials: awaitingMaterials(f) });
  const checklist = checklistOf(ctx.kb, flow, f.answers);
  const terms = commitmentOf(ctx.kb, flow, f.answers, ctx.now);
  const promiseBy = terms?.dueBy;
  const mobileQuestion = flow.questions.find((q) => q.type === 'mobile' && q.id in f.answers);
  const draft: Omit<Application, 'ref'> = {
    flowId: flow.id,
    title: flow.title,
    conversationId: ctx.conversationId,
    answers: { ...f.answers },
    fields: summaryFields(flow, f.answers),
    route: routeOf(flow, f.answers)?.id,
    items: itemsOf(flow, f.answers),
    checklist: checklist.map((m) => (m.requirement === '可容缺' && f.missingOptional && f.commitmentAccepted && promiseBy && terms?.materials.includes(m.name) ? { ...m, promised: { dueBy: promiseBy } } : m)),
    commitment: f.missingOptional && terms ? { accepted: !!f.commitmentAccepted, dueBy: f.commitmentAccepted ? promiseBy : undefined, text: terms.text } : undefined,
    mobile: mobileQuestion ? String(f.answers[mobileQuestion.id]) : '',
    status: 'submitted',
    submittedAt: ctx.now.toISOString(),
    dueDate: limit.due,
    timeLimit: { value: limit.value, unit: limit.unit, ...(limit.unverified ? { unverified: true } : {}), ...(limit.scheduled ? { scheduled: true } : {}) },
    nextSteps: [...pendingOf(flow, f), ...nextStepsOf(flow, f.answers)],
  };
  return { replies: [], state: withFlow(s, { phase: 'submitting' }), effects: [{ type: 'create-application', draft }] };
}

/** After the application is stored: the reference number, due date and next steps. */
export function finishApplication(ctx: DialogueContext, s: DialogueState, app: Application): DialogueResult {
  // Follow-ups after submitting ("那要多久") are about the main item of this application: its route's, else the first.
  const routeItems = ctx.kb.flows.get(app.flowId)?.routes.find((r) => r.id === app.route)?.items ?? [];
  const itemId = routeItems.find((i) => app.items.includes(i)) ?? app.items[0] ?? s.itemId;
  const next = toBot(s, { applications: [...s.applications, app.ref], itemId, lastFlowId: app.flowId });
  const promised = app.checklist.filter((m) => m.promised);
  const lines = [
    `申请已提交！办件编号：${app.ref}`,
    `预计办结时间：${dueText({ ...app.timeLimit, due: app.dueDate })}`,
    ...(promised.length ? [`请在 ${promised[0]!.promised!.dueBy} 前补齐：${promised.map((m) => m.name).join('、')}`] : []),
    '接下来：',
    ...app.nextSteps.map((t, i) => `${i + 1}. ${t}`),
    `可随时发送办件编号并验证手机号查询进度，或拨打 ${ctx.kb.utility.hotline}。`,
  ];
  return done(next, {
    text: lines.join('\n'),
    card: { type: 'application', ref: app.ref, title: app.title, status: app.status, dueDate: app.dueDate, fields: app.fields },
  });
}

/** Drops the application in progress. */
export function cancel(s: FlowModeState): DialogueResult {
  return done(toBot(s), { text: '已取消本次办理，已填写的信息不会提交。还有什么可以帮您？' });
}

/** Undoes the last answer and asks its question again. */
export function back(ctx: DialogueContext, s: FlowModeState): DialogueResult {
  const flow = flowOf(ctx, s);
  // The last answer given to a question before the current one (answers prefilled from the opening message may come later).
  const order = flow.questions.map((q) => q.id);
  const at = s.flow.questionId ? order.indexOf(s.flow.questionId) : order.length;
  const last = [...s.flow.answered].reverse().find((id) => order.indexOf(id) < at);
  if (!last) return done(s, { text: '已经是第一步了。' }, prompt(currentQuestion(ctx, s) ?? flow.questions[0]!));
  const { [last]: _dropped, ...answers } = s.flow.answers;
  return advance(ctx, withFlow(s, { answers, answered: s.flow.answered.filter((id) => id !== last), editing: false, missingOptional: undefined }), [{ text: '好的，回到上一步。' }]);
}

/** Buttons for the answers that can be changed. */
export function editMenu(ctx: DialogueContext, s: FlowModeState): DialogueResult {
  const buttons: QuickReply[] = flowOf(ctx, s).questions.filter((q) => q.id in s.flow.answers).map((q) => ({ title: q.label, postback: `edit:${q.id}` }));
  return done(s, { text: '请问要修改哪一项？', quickReplies: buttons });
}

const FREE_TEXT = new Set(['name', 'address', 'text']);

/** Changes one answer: with the new value in `text` ("电话填错了，是139…"), else by asking it again. */
export function edit(ctx: DialogueContext, s: FlowModeState, q: Question, text?: string): DialogueResult {
  const wasConfirming = s.flow.phase === 'confirm' || s.flow.phase === 'materials' || s.flow.phase === 'commitment';
  const editing = wasConfirming || s.flow.editing;
  if (text) {
    const r = checkSlot(text, q, slotEnv(ctx));
    if (r.ok && q.type !== 'yes-no' && !FREE_TEXT.has(q.type)) {
      return advance(ctx, withFlow(s, { answers: { ...s.flow.answers, [q.id]: r.value }, editing }), [{ text: `已将${q.label}改为 ${displayValue(q, r.value)}。` }]);
    }
  }
  const { [q.id]: _dropped, ...answers } = s.flow.answers;
  const next = withFlow(s, { answers, answered: s.flow.answered.filter((h) => h !== q.id), editing, phase: 'asking', questionId: q.id });
  return done(next, { text: `好的，重新填写${q.label}。` }, prompt(q));
}

/** Records the answer to the current question and moves on. */
export function accept(ctx: DialogueContext, s: FlowModeState, q: Question, value: SlotValue): DialogueResult {
  const answered = s.flow.answered.includes(q.id) ? s.flow.answered : [...s.flow.answered, q.id];
  return advance(ctx, withFlow(s, { answers: { ...s.flow.answers, [q.id]: value }, answered }), []);
}

/** The answer to "都能提供 / 暂时缺少". */
export function materialsAnswer(ctx: DialogueContext, s: FlowModeState, missing: boolean): DialogueResult {
  if (!missing) return confirm(ctx, withFlow(s, { missingOptional: false }), [{ text: '好的，请在受理时一并提交全部材料。' }]);
  const next = withFlow(s, { missingOptional: true, phase: 'commitment' });
  return done(next, commitmentPrompt(ctx, next));
}

/** The answer to the 告知承诺. */
export function commitmentAnswer(ctx: DialogueContext, s: FlowModeState, accepted: boolean): DialogueResult {
  const note = accepted ? '已记录您的承诺，可容缺材料请在承诺期限内补齐。' : '好的，不作承诺的话，可容缺材料需要在受理前补齐，受理后才开始计算办理时限。';
  return confirm(ctx, withFlow(s, { commitmentAccepted: accepted }), [{ text: note }]);
}
