import type { QuickReply, Reply } from '../core/index.js';
import type { Aspect, Item, KnowledgeBase, Material } from '../knowledge/index.js';

/** Button titles for the aspects of a guide. */
export const ASPECT_TITLES: Record<Aspect, string> = {
  materials: '要带什么材料',
  timeLimit: '多久办好',
  channels: '在哪办',
  fees: '收费吗',
  conditions: '办理条件',
  steps: '办理流程',
};

const HANDOFF_BUTTON: QuickReply = { title: '转人工', postback: 'handoff' };

/** Text for a time limit ("2 个自然日"; 0 means on the spot). */
export function timeLimitText(item: Item): string {
  const t = item.timeLimit;
  const base = t.value === 0 ? '即时办结' : `${t.value} 个${t.unit}`;
  return t.note ? `${base}（${t.note}）` : base;
}

/** One line per material, marked 必备 / 可容缺 and 告知承诺. */
export function materialLine(m: Pick<Material, 'name' | 'requirement' | 'commitment'> & { note?: string }): string {
  const marks = [m.requirement, m.commitment ? '可告知承诺' : ''].filter(Boolean).join('，');
  return `${m.name}（${marks}）${m.note ? `：${m.note}` : ''}`;
}

function channelNames(kb: KnowledgeBase, item: Item): string[] {
  return item.channels.map((c) => {
    const name = kb.utility.channels.find((u) => u.id === c.channel)?.name ?? c.channel;
    return c.note ? `${name}（${c.note}）` : name;
  });
}

/** The text of one part of a guide. */
export function aspectText(kb: KnowledgeBase, item: Item, aspect: Aspect): string {
  switch (aspect) {
    case 'materials':
      if (!item.materials.length) return `「${item.title}」无需提交申请材料。${item.materialsNote ?? ''}`.trim();
      return [`「${item.title}」需要的材料：`, ...item.materials.map((m, i) => `${i + 1}. ${materialLine(m)}`), item.materials.some((m) => m.requirement === '可容缺') ? '标“可容缺”的材料暂时缺少时，可签告知承诺书先行办理，在承诺期限内补齐。' : '', item.materialsNote ?? '']
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

/** Quick replies under a guide: the other aspects, 我要办理 where a flow covers the item, and a person. */
export function guideButtons(kb: KnowledgeBase, item: Item, except?: Aspect): QuickReply[] {
  const aspects = (Object.keys(ASPECT_TITLES) as Aspect[]).filter((a) => a !== except && a !== 'conditions');
  const buttons = aspects.map((a) => ({ title: ASPECT_TITLES[a], postback: `item:${item.id}:${a}` }));
  const flow = [...kb.flows.values()].find((f) => f.items.includes(item.id) && f.questions.length);
  if (flow) buttons.push({ title: `我要办理：${shortTitle(flow.title)}`, postback: `flow:${flow.id}` });
  buttons.push(HANDOFF_BUTTON);
  return buttons;
}

/** A title without its bracketed part: 我要开店（…） → 我要开店. */
export function shortTitle(title: string): string {
  return title.replace(/（.*?）|\(.*?\)/g, '').trim();
}

/** The full guide answer: short answer, key facts card, and buttons. */
export function guideReply(kb: KnowledgeBase, item: Item): Reply {
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
      ],
    },
    quickReplies: guideButtons(kb, item),
  };
}

/** The answer to one aspect of a guide, with buttons for the rest. */
export function aspectReply(kb: KnowledgeBase, item: Item, aspect: Aspect): Reply {
  return { text: aspectText(kb, item, aspect), quickReplies: guideButtons(kb, item, aspect) };
}

/** A button for a candidate target (clarify). */
export function targetButton(kb: KnowledgeBase, key: string): QuickReply | null {
  const [kind, id] = key.split(':') as [string, string];
  if (kind === 'item') {
    const item = kb.items.get(id);
    return item ? { title: shortTitle(item.title), postback: key } : null;
  }
  const flow = kb.flows.get(id);
  return flow ? { title: shortTitle(flow.title), postback: key } : null;
}

export { HANDOFF_BUTTON };
