import type { Reply } from '../core/index.js';
import type { EnglishUi, Flow, Item, KnowledgeBase } from '../knowledge/index.js';
import type { DialogueContext, DialogueInput, DialogueState, Lang } from './types.js';

/** Something a message must hold to show its language: a letter of any script (digits and emoji show none). */
const LETTER = /\p{L}/u;

/**
 * The language to answer a turn in: a typed message's own, else the language of the last message that showed one,
 * else the conversation's.
 */
export function turnLang(ctx: DialogueContext, state: DialogueState, input: DialogueInput): Lang {
  const kept = state.lang ?? ctx.lang ?? 'zh';
  if (input.kind !== 'text' || !LETTER.test(input.text)) return kept;
  return ctx.classifier.langOf(input.text);
}

/** The English UI words when this turn is answered in English and the utility has them; null otherwise. */
export function englishUi(ctx: DialogueContext): EnglishUi | null {
  return ctx.lang === 'en' ? (ctx.kb.utility.en ?? null) : null;
}

/** An English template with the utility's {hotline}, {shortName} (its English name), {hours} and the given values filled in. */
export function fill(kb: KnowledgeBase, template: string, values: Record<string, string> = {}): string {
  const all: Record<string, string> = { hotline: kb.utility.hotline, shortName: kb.utility.en?.name ?? kb.utility.shortName, ...values };
  return template.replace(/\{(\w+)\}/g, (m, k: string) => all[k] ?? m);
}

/** An English reply. */
export function en(kb: KnowledgeBase, template: string, extra: Omit<Reply, 'text' | 'lang'> = {}, values?: Record<string, string>): Reply {
  return { text: fill(kb, template, values), lang: 'en', ...extra };
}

/** A guide reply headed by the item's (or flow's) English title and summary, the Chinese guide below it. */
export function withEnglishSummary(ctx: DialogueContext, target: Pick<Item | Flow, 'titleEn' | 'summaryEn'>, reply: Reply): Reply {
  if (ctx.lang !== 'en') return reply;
  const heading = ctx.kb.utility.en?.chineseGuide;
  return { ...reply, text: [target.titleEn, target.summaryEn, '', ...(heading ? [heading] : []), reply.text].join('\n'), lang: 'en' };
}
