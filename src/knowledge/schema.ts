import { z } from 'zod';

/** Channel ids a guide may name; each is described in knowledge/utility.yaml. */
export const CHANNEL_IDS = ['hubei-gov', 'ehuiban', 'wushui-online', 'wechat', 'alipay', 'hall', 'hotline'] as const;
export type ChannelId = (typeof CHANNEL_IDS)[number];

/** The parts of a guide a user can ask about; `policy` is "还在执行吗" about a guide's time-bound policies. */
export const ASPECTS = ['materials', 'timeLimit', 'fees', 'channels', 'conditions', 'steps', 'policy'] as const;
export type Aspect = (typeof ASPECTS)[number];

const text = z.string().trim().min(1, 'must not be empty');
const textList = (min = 1) => z.array(text).min(min, `needs at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
const id = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a kebab-case id');

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/**
 * When a material is needed, read from the application's answers by question id: slot → value or any-of list.
 * A slot the application never asked counts as not holding: `when` drops the material, `unless` keeps it.
 * Shared slot ids: byAgent (someone acts for the applicant), subjectType (individual|sme|edu|other|person),
 * autoDebit (signs 代扣), accountHolderDiffers (水表户名与申请主体不一致), cardHolderDiffers, refundBalance…
 */
export const materialConditionSchema = z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), z.union([scalar, z.array(scalar).min(1)]));
export type MaterialCondition = z.infer<typeof materialConditionSchema>;

export const materialSchema = z.strictObject({
  /** Stable id: checklists merge the same document from several items by it (owner-id, business-license…). */
  id,
  name: text,
  /** 必备: must be handed in; 可容缺: may follow later under 告知承诺 (only in items marked `deferral`). */
  requirement: z.enum(['必备', '可容缺']),
  /** Whether the applicant may sign a 告知承诺 in place of this material for now (only in items marked `commitment`). */
  commitment: z.boolean().default(false),
  /** Needed only when this holds for the answers. */
  when: materialConditionSchema.optional(),
  /** Not needed when this holds for the answers. */
  unless: materialConditionSchema.optional(),
  /** Not needed when the application also includes one of these items (代扣 in a 销户 is a cancellation: no bank card). */
  unlessWith: z.array(id).default([]),
  note: text.optional(),
});

/** A choice the source does not make, marked for the utility to confirm or replace. */
const sampleMark = { sample: z.boolean().default(false), note: text.optional() };

/** The item is one of the source's 告知承诺马上办 items: the promise it asks for, and what breaking it costs. */
export const itemCommitmentSchema = z.strictObject({
  ...sampleMark,
  /** What the applicant promises ("所申请的用水性质与实际用途一致"), one clause of the 告知承诺书. */
  promise: text,
  /** What happens if the promise is broken or the materials never come ("恢复原水价并追补差价"). */
  breach: text,
});

/** A time-bound policy (2020 relief measures): dates in YYYY-MM-DD; no validUntil means the end date is not known. */
export const policySchema = z.strictObject({
  name: text,
  validFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
  validUntil: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').optional(),
  /** Temporary (阶段性) measure: without a known end it is described in the past tense. */
  temporary: z.boolean().default(true),
  /** Where the dates come from (document and day). */
  source: text,
});
export type Policy = z.infer<typeof policySchema>;

/** A figure the source does not give, stated in the field as "参考：… 以受理时答复为准" until the utility confirms it. */
export const unverifiedSchema = z.strictObject({
  /** Dotted path of the field that holds the figure (fees, answer, faqs.2.a, conditions.1 …). */
  field: z.string().min(1),
  /** The figure as written in that field. */
  text,
});
export type Unverified = z.infer<typeof unverifiedSchema>;

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
  /** 告知承诺马上办 (13 items in the source): set only on items the source names or a marked sample. */
  commitment: itemCommitmentSchema.optional(),
  /** 容缺办理 (5 items in the source): only these items may list 可容缺 materials. */
  deferral: z.strictObject(sampleMark).optional(),
  /** Time-bound policies this guide describes. */
  policies: z.array(policySchema).default([]),
  timeLimit: z.strictObject({
    value: z.number().int().min(0),
    unit: z.enum(['工作日', '自然日']),
    note: text.optional(),
    /** The source gives no such limit: shown as "参考：… 以受理时答复为准". */
    unverified: z.boolean().default(false),
    /** Answers (question ids) naming the day this item's work is done (搬离日期, 报停日期): the due date is never before it. */
    scheduledBy: z.array(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/)).default([]),
  }),
  fees: text,
  steps: textList(1),
  zeroVisit: z.boolean(),
  facts: z.array(text).default([]),
  faqs: z.array(z.strictObject({ q: text, a: text })).default([]),
  related: z.array(id).default([]),
  /** Figures in the text fields that the source does not give. */
  unverified: z.array(unverifiedSchema).default([]),
});
export type Item = z.infer<typeof itemSchema>;
export type Material = z.infer<typeof materialSchema>;
export type ItemCommitment = z.infer<typeof itemCommitmentSchema>;

/**
 * The assistant's own words in English, for residents who write in English ({hotline} and {shortName}, the English `name`, are filled in).
 * Without this block English messages get the item's English title and summary, and everything else in Chinese.
 */
export const englishUiSchema = z.strictObject({
  /** The utility's name in English ({shortName} in the texts below). */
  name: text,
  welcome: text,
  clarify: text,
  noneOfThese: text,
  fallback: text,
  fallbackAgain: text,
  rephraseButton: text,
  scope: text,
  handoffButton: text,
  /** The heading above the Chinese guide, under the English summary. */
  chineseGuide: text,
  /** First line of an application started in English: the form itself is in Chinese. */
  flowInChinese: text,
  urgentHint: text,
  /** Prefix of the button offering a second question ("Also ask: …"). */
  alsoAsk: text,
  /** Prefix of the buttons that start an application ("Apply (form in Chinese): …"). */
  apply: text,
  aspects: z.strictObject(Object.fromEntries(ASPECTS.map((a) => [a, text])) as Record<Aspect, typeof text>),
  handoff: z.strictObject({ asked: text, urgent: text, complaint: text, callback: text, paused: text, backToBot: text, notice: text, noticeUrgent: text, resumeButton: text, backToBotButton: text }),
});
export type EnglishUi = z.infer<typeof englishUiSchema>;

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
  halls: z.array(z.strictObject({ name: text, district: text, address: text, hours: text, ...sampleMark })).min(1),
  hallHours: text,
  facts: textList(1),
  scopeReply: text,
  /** Districts served, with the short names users type. */
  districts: z.array(z.strictObject({ name: text, aliases: z.array(text).default([]) })).min(1),
  /** Meter / pipe sizes (DN, mm) the utility installs. */
  dnSizes: z.array(z.number().int().positive()).min(1),
  /** How long a 告知承诺 gives to hand in the missing materials. */
  commitment: z.strictObject({ days: z.number().int().positive(), unverified: z.boolean().default(false) }),
  /** The source's counts: 告知承诺马上办 items and 容缺办理 items; the guides may mark no more. */
  reform: z.strictObject({ commitmentItems: z.number().int().positive(), deferralItems: z.number().int().positive() }),
  /** Figures the source gives that guides may state plainly (24 小时, 30 分钟 …), each with where the source says it. */
  sourceFigures: z.array(z.strictObject({ text, source: text })).default([]),
  /** Figures in utility texts that the source does not give (hallHours, channels.5.hours, halls.0.hours …). */
  unverified: z.array(unverifiedSchema).default([]),
  welcome: z.strictObject({ text, quickReplies: z.array(z.strictObject({ title: text, postback: text })).default([]) }),
  en: englishUiSchema.optional(),
});
export type Utility = z.infer<typeof utilitySchema>;

export const smalltalkSchema = z.strictObject({
  intents: z
    .array(
      z.strictObject({
        id,
        patterns: textList(1),
        replies: textList(1),
        /** The reply to a message written in English; none: the Chinese reply. */
        repliesEn: z.array(text).default([]),
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

/** Words to match: `exact` is the whole message (fillers dropped), `contains` anywhere. */
const wordsSchema = z
  .strictObject({ exact: z.array(text).default([]), contains: z.array(text).default([]) })
  .refine((w) => w.exact.length + w.contains.length > 0, 'needs at least one word');
/** The dialogue's control words, read by src/dialogue/controls.ts. */
export const controlSchema = z.strictObject({
  /** Words around a control word that add nothing ("按错了，返回上一步"). */
  fillers: z.array(text).default([]),
  /** Sentence particles that may follow any answer ("是的呀"). */
  particles: z.array(text).default([]),
  cancel: wordsSchema,
  back: wordsSchema,
  edit: wordsSchema,
  confirm: wordsSchema,
  yes: wordsSchema,
  no: wordsSchema,
  materialsAll: wordsSchema,
  materialsMissing: wordsSchema,
  skip: wordsSchema,
  where: wordsSchema,
  backToBot: wordsSchema,
  stay: wordsSchema,
  question: wordsSchema,
  apply: wordsSchema,
});
export type Control = z.infer<typeof controlSchema>;

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
  control: controlSchema,
});
export type Intents = z.infer<typeof intentsSchema>;

