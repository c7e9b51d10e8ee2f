import { z } from 'zod';

/** Channel ids a guide may name; each is described in knowledge/utility.yaml. */
export const CHANNEL_IDS = ['hubei-gov', 'ehuiban', 'wushui-online', 'wechat', 'alipay', 'hall', 'hotline'] as const;
export type ChannelId = (typeof CHANNEL_IDS)[number];

/** The parts of a guide a user can ask about. */
export const ASPECTS = ['materials', 'timeLimit', 'fees', 'channels', 'conditions', 'steps'] as const;
export type Aspect = (typeof ASPECTS)[number];

const text = z.string().trim().min(1, 'must not be empty');
const textList = (min = 1) => z.array(text).min(min, `needs at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
const id = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a kebab-case id');

export const materialSchema = z.strictObject({
  name: text,
  /** 必备: must be handed in; 可容缺: may follow later under 告知承诺. */
  requirement: z.enum(['必备', '可容缺']),
  /** Whether the applicant may sign a 告知承诺 in place of this material for now. */
  commitment: z.boolean(),
  note: text.optional(),
});

/** English name, phrasings and one-paragraph summary of a guide or flow, for residents who write in English. */
export const englishFields = {
  titleEn: text,
  /** What an English-speaking resident might type for this (3–6 phrasings). */
  aliasesEn: textList(1),
  /** One paragraph in plain English, true to the Chinese guide; sample figures said "for reference". */
  summaryEn: text,
};

export const channelRefSchema = z.strictObject({ channel: z.enum(CHANNEL_IDS), note: text.optional() });

export const itemSchema = z.strictObject({
  id,
  category: z.enum(['connect', 'account', 'relief', 'billing', 'repair', 'channel']),
  title: text,
  ...englishFields,
  aliases: textList(1),
  /** Domain words users type for this item, beyond title and aliases. */
  keywords: z.array(text).default([]),
  examples: textList(8),
  answer: text,
  conditions: textList(1),
  channels: z.array(channelRefSchema).min(1, 'needs at least one channel'),
  materials: z.array(materialSchema),
  materialsNote: text.optional(),
  timeLimit: z.strictObject({
    value: z.number().int().min(0),
    unit: z.enum(['工作日', '自然日']),
    note: text.optional(),
  }),
  fees: text,
  steps: textList(1),
  zeroVisit: z.boolean(),
  facts: z.array(text).default([]),
  faqs: z.array(z.strictObject({ q: text, a: text })).default([]),
  related: z.array(id).default([]),
});
export type Item = z.infer<typeof itemSchema>;
export type Material = z.infer<typeof materialSchema>;

export const utilitySchema = z.strictObject({
  name: text,
  shortName: text,
  city: text,
  hotline: text,
  hotlineHours: text,
  accountNumber: z.strictObject({ pattern: text, example: text, description: text }),
  channels: z
    .array(
      z.strictObject({
        id: z.enum(CHANNEL_IDS),
        name: text,
        kind: z.enum(['online', 'offline', 'phone']),
        hours: text,
        description: text,
      }),
    )
    .min(1),
  halls: z.array(z.strictObject({ name: text, district: text, address: text, hours: text })).min(1),
  hallHours: text,
  facts: textList(1),
  scopeReply: text,
  /** Districts served, with the short names users type. */
  districts: z.array(z.strictObject({ name: text, aliases: z.array(text).default([]) })).min(1),
  /** Meter / pipe sizes (DN, mm) the utility installs. */
  dnSizes: z.array(z.number().int().positive()).min(1),
  welcome: z.strictObject({ text, quickReplies: z.array(z.strictObject({ title: text, postback: text })).default([]) }),
});
export type Utility = z.infer<typeof utilitySchema>;

export const smalltalkSchema = z.strictObject({
  intents: z
    .array(
      z.strictObject({
        id,
        patterns: textList(1),
        replies: textList(1),
      }),
    )
    .min(1),
});
export type Smalltalk = z.infer<typeof smalltalkSchema>;

export const synonymsSchema = z.strictObject({
  /** Each group: the first word is canonical, the rest map to it. */
  groups: z.array(z.array(text).min(2, 'a group needs at least two words')).min(1),
  /** Typos and homophones: wrong → right. */
  typos: z.record(z.string(), text).default({}),
  /** Words the segmenter must keep whole. */
  domainWords: z.array(text).default([]),
});
export type Synonyms = z.infer<typeof synonymsSchema>;

/** The understanding's own data: hand-off, urgency, scope, 一件事 cues, aspects, stop words. */
export const intentsSchema = z.strictObject({
  handoff: z.strictObject({ patterns: textList(1), exact: z.array(text).default([]), exclude: z.array(text).default([]) }),
  urgent: z.strictObject({ patterns: textList(1) }),
  /** Other businesses; `evenAboutWater` topics (other cities' utilities) apply even when the message is about water. */
  outOfScope: z.array(z.strictObject({ topic: text, words: textList(1), reply: text.optional(), evenAboutWater: z.boolean().default(false) })).min(1),
  flowCues: textList(1),
  aspects: z.strictObject(Object.fromEntries(ASPECTS.map((a) => [a, textList(1)])) as Record<Aspect, ReturnType<typeof textList>>),
  stopwords: z.array(text).default([]),
  /** Complaint and anger cues (`a+b`: both anywhere; `#`: a number): hand off with reason complaint. `strong` ones do so even in a short message. */
  complaint: z.strictObject({ patterns: z.array(text).default([]), strong: z.array(text).default([]) }).default({ patterns: [], strong: [] }),
  /** Phrases that look like an aspect but ask something else ("多久清洗一次" is a frequency, "能减多少" a discount): no aspect. */
  aspectExclude: z.array(text).default([]),
  /** Words that mark the asking part of a long message (请问, 怎么, 谁负责…). */
  asking: z.array(text).default([]),
  /** Words that show a message is about water service at all (水, 水表, 户号…), beyond every item's own vocabulary. */
  domain: z.array(text).default([]),
  /** English phrases → the Chinese words they mean, and English words that carry no topic. */
  english: z.strictObject({ lexicon: z.record(z.string(), text).default({}), stopwords: z.array(text).default([]) }).default({ lexicon: {}, stopwords: [] }),
});
export type Intents = z.infer<typeof intentsSchema>;
