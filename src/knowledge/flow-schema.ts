import { z } from 'zod';
import { englishFields, materialSchema, unverifiedSchema } from './schema.js';

const text = z.string().trim().min(1, 'must not be empty');
const id = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a kebab-case id');
const slotId = z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/, 'must be a camelCase slot id');

/** The slot types the engine can check; each has a validator in src/dialogue/slots. */
export const SLOT_TYPES = [
  'mobile',
  'id-card',
  'uscc',
  'account-number',
  'district',
  'address',
  'dn',
  'date',
  'yes-no',
  'choice',
  'name',
  'text',
  'count',
] as const;
export type SlotType = (typeof SLOT_TYPES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const comparison = z.strictObject({
  lte: z.number().optional(),
  lt: z.number().optional(),
  gte: z.number().optional(),
  gt: z.number().optional(),
  not: scalar.optional(),
});
/** slot → expected value, any-of list, or numeric comparison; every entry must hold. */
export const conditionSchema = z.record(slotId, z.union([scalar, z.array(scalar).min(1), comparison]));
export type Condition = z.infer<typeof conditionSchema>;

export const optionSchema = z.strictObject({
  value: z.string().min(1),
  label: text,
  /** Other words a user may type to choose this option. */
  aliases: z.array(text).default([]),
});

/** One question a flow asks; its answer is stored under `id`. */
export const questionSchema = z.strictObject({
  id: slotId,
  /** What the answer is called when the user wants to change it ("手机号"). */
  label: text,
  /** Other names for the slot, so "电话填错了" finds `mobile`. */
  labelAliases: z.array(text).default([]),
  type: z.enum(SLOT_TYPES),
  prompt: text,
  help: text.optional(),
  options: z.array(optionSchema).optional(),
  /** The question is asked only when this holds for earlier answers. */
  when: conditionSchema.optional(),
  /** Personal data: masked in every display. */
  sensitive: z.boolean().default(false),
  /** May be left for later ("跳过，稍后补充"); by default personal details that steer nothing may. */
  skippable: z.boolean().optional(),
  /** A yes/no question answered by a count: "5个人" is yes when at least this many. */
  yesFromCount: z.number().int().positive().optional(),
  /** Words that, in the opening message, settle this yes/no question as yes ("挪个位置" → 移表); 不/不用 before them: no. */
  cues: z.array(text).default([]),
});
export type Question = z.infer<typeof questionSchema>;

export const bringSchema = z.strictObject({
  when: conditionSchema.optional(),
  items: z.array(id).default([]),
  materials: z.array(materialSchema).default([]),
  note: text.optional(),
});

export const routeSchema = z.strictObject({
  id,
  when: conditionSchema.optional(),
  title: text,
  summary: text,
  items: z.array(id).default([]),
  /** Overrides the time limit computed from items. */
  timeLimit: z
    .strictObject({
      value: z.number().int().min(0),
      unit: z.enum(['工作日', '自然日']),
      /** The source gives no such limit for this route: shown as 参考. */
      unverified: z.boolean().default(false),
    })
    .optional(),
  /** This route needs no materials at all (零资料). */
  noMaterials: z.boolean().default(false),
});

/** A text shown after submitting, when its condition holds. */
export const nextStepSchema = z.strictObject({ when: conditionSchema.optional(), text });

export const flowSchema = z.strictObject({
  id,
  title: text,
  ...englishFields,
  items: z.array(id).min(1),
  /** Situations users describe that this flow covers. */
  examples: z.array(text).min(8, 'needs at least 8 example situations'),
  keywords: z.array(text).default([]),
  intro: text.optional(),
  questions: z.array(questionSchema).default([]),
  routes: z.array(routeSchema).default([]),
  bring: z.array(bringSchema).default([]),
  commitment: z.strictObject({ text, days: z.number().int().positive() }).optional(),
  nextSteps: z.array(nextStepSchema).default([]),
  /** Figures in the flow's texts that the source does not give, stated as "参考：…，以受理时答复为准". */
  unverified: z.array(unverifiedSchema).default([]),
});
export type Flow = z.infer<typeof flowSchema>;
export type Route = z.infer<typeof routeSchema>;
