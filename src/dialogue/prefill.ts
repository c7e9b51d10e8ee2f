import type { Flow, Question, Utility } from '../knowledge/index.js';
import { normalize } from '../nlu/index.js';
import { parseDate } from './dates.js';
import { holds } from './flow-logic.js';
import { checkCount, checkDn, displayValue, type SlotValue } from './slots.js';
import { compactName } from './compact.js';

/** Words just before a cue that turn it into a no ("不用报停"). */
const NEGATION = /(不用|不要|不需要|无需|不必|没有|不想|别|不|没)$/;
/** A date said in passing ("下周三开始装修", "12月8日搬"). */
const DATE_WORDS = /\d{1,2}\s*月\s*\d{1,2}|\d{4}-\d{1,2}-\d{1,2}|明天|后天|大后天|下周|下个?星期|下个?礼拜|周[一二三四五六日天]|星期[一二三四五六日天]|下个?月\s*\d+\s*[号日]|\d+\s*天(以)?后/;
/** A count said in passing ("家里6口人", "5个人"). */
const COUNT = /(\d{1,3})\s*(口人|个人|口|人)/;

function cueAnswer(text: string, cues: string[]): boolean | null {
  for (const cue of cues.map(compactName).filter((c) => c.length >= 2).sort((a, b) => b.length - a.length)) {
    const at = text.indexOf(cue);
    if (at < 0) continue;
    return !NEGATION.test(text.slice(Math.max(0, at - 3), at));
  }
  return null;
}

function settle(q: Question, text: string, raw: string, utility: Utility, now: Date, datesUsed: { used: boolean }): SlotValue | null {
  switch (q.type) {
    case 'yes-no': {
      const count = q.yesFromCount ? text.match(COUNT) : null;
      if (count) return Number(count[1]) >= q.yesFromCount!;
      return cueAnswer(text, [q.label, ...q.labelAliases, ...q.cues]);
    }
    case 'choice': {
      // An option's label, or an alias long enough not to be a guess ("培训学校", not "学校").
      const names = (o: { label: string; aliases: string[] }) => [o.label, ...o.aliases.filter((a) => [...a].length >= 3)];
      const hits = (q.options ?? []).filter((o) => names(o).map(compactName).some((n) => n.length >= 2 && text.includes(n)));
      return hits.length === 1 ? hits[0]!.value : null;
    }
    case 'district': {
      const d = utility.districts.find((x) => [x.name, ...x.aliases].some((n) => n.length >= 2 && text.includes(n)));
      return d ? d.name : null;
    }
    case 'dn': {
      const m = raw.match(/DN\s*(\d{2,3})|(\d{2,3})\s*(mm|毫米)/i);
      const r = m ? checkDn(m[1] ?? m[2]!, utility) : null;
      return r?.ok ? r.value : null;
    }
    case 'date': {
      if (datesUsed.used || !DATE_WORDS.test(raw)) return null;
      const day = parseDate(raw.match(DATE_WORDS)![0], now);
      if (day) datesUsed.used = true;
      return day;
    }
    case 'count': {
      const m = text.match(COUNT);
      const r = m ? checkCount(m[0]) : null;
      return r?.ok ? r.value : null;
    }
    default:
      // Names, numbers and addresses are asked for, never guessed from a story.
      return null;
  }
}

/**
 * The answers an opening message already settles ("想把水表挪个位置，装修期间先报停" → 移表 是, 报停 是), in question
 * order. Only statements count: a clause that asks ("水费怎么结清") settles nothing.
 */
export function prefill(flow: Flow, message: string, utility: Utility, now: Date, isQuestion: (clause: string) => boolean): Record<string, SlotValue> {
  const said = message
    .normalize('NFKC')
    .split(/[，。！？,.!?；;、\n]/)
    .filter((c) => c.trim() && !isQuestion(c))
    .join('，');
  const text = normalize(said).replace(/\s/g, '');
  const raw = said;
  const answers: Record<string, SlotValue> = {};
  const datesUsed = { used: false };
  for (const q of flow.questions) {
    if (!holds(q.when, answers)) continue;
    const v = settle(q, text, raw, utility, now, datesUsed);
    if (v !== null) answers[q.id] = v;
  }
  return answers;
}

/** "报停：是；移表：是" for the one-line confirmation of prefilled answers. */
export function prefillLine(flow: Flow, answers: Record<string, SlotValue>): string {
  return flow.questions.filter((q) => q.id in answers).map((q) => `${q.label}：${displayValue(q, answers[q.id]!)}`).join('；');
}
