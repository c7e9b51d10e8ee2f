import type { QuickReply, Reply } from '../core/index.js';
import { UNVERIFIED_CLOSE, UNVERIFIED_OPEN, type Aspect, type EnglishUi, type Item, type KnowledgeBase, type Material, type Policy } from '../knowledge/index.js';
import { isoDay } from './dates.js';

/** Button titles for the aspects of a guide. */
export const ASPECT_TITLES: Record<Aspect, string> = {
  materials: '要带什么材料',
  timeLimit: '多久办好',
  channels: '在哪办',
  fees: '收费吗',
  conditions: '办理条件',
  steps: '办理流程',
  policy: '政策还在执行吗',
};

const HANDOFF_BUTTON: QuickReply = { title: '转人工', postback: 'handoff' };

/** States a figure the source does not give: "参考：<text>，以受理时答复为准". */
export function unverifiedText(text: string): string {
  return `${UNVERIFIED_OPEN}${text}，${UNVERIFIED_CLOSE}`;
}

/** Text for a time limit ("2 个自然日"; 0 means on the spot); a limit the source does not give is stated as 参考. */
export function timeLimitText(item: Item): string {
  const t = item.timeLimit;
  const base = t.value === 0 ? '即时办结' : `${t.value} 个${t.unit}`;
  const text = t.note ? `${base}（${t.note}）` : base;
  return t.unverified ? unverifiedText(text) : text;
}

/**
 * An application's expected completion: the due date, "受理后开始计时" while materials are missing, or the day the
 * applicant chose for the work when that is later than the limit.
 */
export function dueText(limit: { value: number; unit: '工作日' | '自然日'; due: string | null; unverified?: boolean; scheduled?: boolean }): string {
  if (limit.scheduled && limit.due) return `按您约定的日期办理，${limit.due} 前办结`;
  const span = limit.value === 0 ? '即时办结' : `${limit.value} 个${limit.unit}内`;
  const text = limit.due === null ? `受理后开始计时，${span}办结（材料补齐、正式受理后起算）` : limit.value === 0 ? `即时办结（${limit.due}）` : `${span}（${limit.due} 前）`;
  return limit.unverified ? unverifiedText(text) : text;
}

/** One line per material, marked 必备 / 可容缺 and 告知承诺. */
export function materialLine(m: Pick<Material, 'name' | 'requirement' | 'commitment'> & { note?: string }): string {
  const marks = [m.requirement, m.commitment ? '可告知承诺' : ''].filter(Boolean).join('，');
  return `${m.name}（${marks}）${m.note ? `：${m.note}` : ''}`;
}

/** How a policy stands on `now`: current, ended, or (temporary without a known end) described in the past tense. */
export function policyState(p: Policy, now?: Date): 'upcoming' | 'current' | 'ended' | 'past-undated' | 'dated' {
  if (!now) return p.validUntil || !p.temporary ? 'dated' : 'past-undated';
  const today = isoDay(now);
  if (today < p.validFrom) return 'upcoming';
  if (p.validUntil) return today <= p.validUntil ? 'current' : 'ended';
  return p.temporary ? 'past-undated' : 'current';
}

const day = (d: string) => `${Number(d.slice(0, 4))} 年 ${Number(d.slice(5, 7))} 月 ${Number(d.slice(8, 10))} 日`;

/**
 * The answer to "还在执行吗" about a guide's policies, from their dates; null when the guide has none.
 * Without `now` only what does not depend on the day is said (dates, and the past tense of undated measures).
 */
export function policyStatusText(kb: KnowledgeBase, item: Item, now?: Date): string | null {
  if (!item.policies.length) return null;
  const ask = `现行政策请咨询 ${kb.utility.hotline}。`;
  const lines = item.policies.map((p) => {
    switch (policyState(p, now)) {
      case 'upcoming':
        return `「${p.name}」自 ${day(p.validFrom)}起执行${p.validUntil ? `，执行至 ${day(p.validUntil)}` : ''}。`;
      case 'current':
        return `「${p.name}」正在执行：自 ${day(p.validFrom)}起${p.validUntil ? `，执行至 ${day(p.validUntil)}` : ''}。`;
      case 'ended':
        return `「${p.name}」是 ${day(p.validFrom)}至 ${day(p.validUntil!)}执行的阶段性政策，已经到期。`;
      case 'dated':
        return `「${p.name}」自 ${day(p.validFrom)}起执行${p.validUntil ? `，执行至 ${day(p.validUntil)}` : ''}。`;
      case 'past-undated':
        return `「${p.name}」是 ${day(p.validFrom)}起执行的阶段性政策，执行期限以当时的政策文件为准，现在是否仍在执行需以最新政策为准。`;
    }
  });
  const allCurrent = item.policies.every((p) => policyState(p, now) === 'current');
  return [...lines, ...(allCurrent ? [] : [ask])].join('\n');
}

function channelNames(kb: KnowledgeBase, item: Item): string[] {
  return item.channels.map((c) => {
    const name = kb.utility.channels.find((u) => u.id === c.channel)?.name ?? c.channel;
    return c.note ? `${name}（${c.note}）` : name;
  });
}

/** The text of one part of a guide. */
export function aspectText(kb: KnowledgeBase, item: Item, aspect: Aspect, now?: Date): string {
  switch (aspect) {
    case 'policy':
      return policyStatusText(kb, item, now) ?? `「${item.title}」不是阶段性政策，按现行办事指南办理，具体以受理时答复为准。`;
    case 'materials':
      if (!item.materials.length) return `「${item.title}」无需提交申请材料。${item.materialsNote ?? ''}`.trim();
      return [`「${item.title}」需要的材料：`, ...item.materials.map((m, i) => `${i + 1}. ${materialLine(m)}`), item.deferral && item.materials.some((m) => m.requirement === '可容缺') ? '标“可容缺”的材料暂时缺少时，可签告知承诺书先行办理，在承诺期限内补齐。' : '', item.materialsNote ?? '']
        .filter(Boolean)
        .join('\n');
    case 'timeLimit':
      return `「${item.title}」办理时限：${timeLimitText(item)}。`;
    case 'fees':
      return `「${item.title}」收费：${item.fees}`;
    case 'channels':
      return [`「${item.title}」可以通过这些渠道办理${item.zeroVisit ? '（全程网上办，零跑腿）' : ''}：`, ...channelNames(kb, item).map((c) => `· ${c}`)].join('\n');
    case 'conditions':
      return [`「${item.title}」办理条件：`, ...item.conditions.map((c, i) => `${i + 1}. ${c}`)].join('\n');
    case 'steps':
      return [`「${item.title}」办理流程：`, ...item.steps.map((s, i) => `${i + 1}. ${s}`)].join('\n');
  }
}

/** The hand-off button, in English when `en` is given. */
export function handoffButton(en?: EnglishUi | null): QuickReply {
  return en ? { ...HANDOFF_BUTTON, title: en.handoffButton } : HANDOFF_BUTTON;
}

/** Quick replies under a guide: the other aspects, 我要办理 where a flow covers the item, and a person; titles in English when `en` is given. */
export function guideButtons(kb: KnowledgeBase, item: Item, except?: Aspect, en?: EnglishUi | null): QuickReply[] {
  const buttons = zhGuideButtons(kb, item, except);
  if (!en) return buttons;
  return buttons.map((b) => {
    const [kind, id, aspect] = b.postback.split(':') as [string, string, Aspect | undefined];
    if (kind === 'item' && aspect) return { ...b, title: en.aspects[aspect] };
    if (kind === 'apply' || kind === 'flow') return { ...b, title: `${en.apply} ${(kind === 'flow' ? kb.flows.get(id) : kb.items.get(id))?.titleEn ?? b.title}` };
    return b.postback === HANDOFF_BUTTON.postback ? handoffButton(en) : b;
  });
}

function zhGuideButtons(kb: KnowledgeBase, item: Item, except?: Aspect): QuickReply[] {
  const aspects = (Object.keys(ASPECT_TITLES) as Aspect[]).filter((a) => a !== except && a !== 'conditions' && (a !== 'policy' || item.policies.length > 0));
  const buttons = aspects.map((a) => ({ title: ASPECT_TITLES[a], postback: `item:${item.id}:${a}` }));
  // The item's own application first; a 一件事 beside it only where the item's data names one that fits.
  const bundle = kb.bundles.get(item.id);
  const bundleFlow = bundle && kb.flows.get(bundle.flow);
  const flow = kb.applications.has(item.id) ? undefined : [...kb.flows.values()].find((f) => f.items.includes(item.id) && f.questions.length);
  // A long title ("中小微企业、个体工商户、民办教育机构用水优惠申请") is shown by its first alias on a button.
  const name = [...shortTitle(item.title)].length > 12 ? (item.aliases[0] ?? shortTitle(item.title)) : shortTitle(item.title);
  if (kb.applications.has(item.id)) buttons.push({ title: `我要办理：${name}`, postback: `apply:${item.id}` });
  if (bundleFlow) buttons.push({ title: `一次办好：${shortTitle(bundleFlow.title)}`, postback: `flow:${bundleFlow.id}` });
  else if (flow) buttons.push({ title: `我要办理：${shortTitle(flow.title)}`, postback: `flow:${flow.id}` });
  buttons.push(HANDOFF_BUTTON);
  return buttons;
}

/** A title without its bracketed part: 我要开店（…） → 我要开店. */
export function shortTitle(title: string): string {
  return title.replace(/（.*?）|\(.*?\)/g, '').trim();
}

/** The full guide answer: short answer, key facts card, and buttons. */
export function guideReply(kb: KnowledgeBase, item: Item, now?: Date, en?: EnglishUi | null): Reply {
  const policy = now ? policyStatusText(kb, item, now) : null;
  return {
    text: item.answer,
    card: {
      type: 'guide',
      itemId: item.id,
      title: item.title,
      facts: [
        { label: '办理时限', value: timeLimitText(item) },
        { label: '收费', value: item.fees },
        { label: '零跑腿', value: item.zeroVisit ? '是，可全程网上办' : '否，需到现场' },
        { label: '办理渠道', value: channelNames(kb, item).map((c) => c.replace(/（.*?）/g, '')).join('、') },
        ...(policy ? [{ label: '政策时效', value: policy }] : []),
      ],
    },
    quickReplies: guideButtons(kb, item, undefined, en),
  };
}

/** The answer to one aspect of a guide, with buttons for the rest. */
export function aspectReply(kb: KnowledgeBase, item: Item, aspect: Aspect, now?: Date, en?: EnglishUi | null): Reply {
  return { text: aspectText(kb, item, aspect, now), quickReplies: guideButtons(kb, item, aspect, en) };
}

/** A button for a candidate target (clarify), titled in English when `lang` is en. */
export function targetButton(kb: KnowledgeBase, key: string, lang: 'zh' | 'en' = 'zh'): QuickReply | null {
  const [kind, id] = key.split(':') as [string, string];
  const target = kind === 'item' ? kb.items.get(id) : kind === 'flow' ? kb.flows.get(id) : undefined;
  if (!target) return null;
  return { title: lang === 'en' ? target.titleEn : shortTitle(target.title), postback: key };
}

export { HANDOFF_BUTTON };
