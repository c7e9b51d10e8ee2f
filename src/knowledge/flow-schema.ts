import { z } from 'zod';
import { englishFields, materialSchema } from './schema.js';

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

export const stepSchema = z.strictObject({
  id: slotId,
  /** What the slot is called when the user wants to change it ("手机号"). */
  label: text,
  /** Other names for the slot, so "电话填错了" finds `mobile`. */
  labelAliases: z.array(text).default([]),
  type: z.enum(SLOT_TYPES),
  prompt: text,
  help: text.optional(),
  options: z.array(optionSchema).optional(),
  /** The step is asked only when this holds for earlier answers. */
  when: conditionSchema.optional(),
  /** Personal data: masked in every display. */
  sensitive: z.boolean().default(false),
});
export type Step = z.infer<typeof stepSchema>;

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
  timeLimit: z.strictObject({ value: z.number().int().min(0), unit: z.enum(['工作日', '自然日']) }).optional(),
  /** This route needs no materials at all (零资料). */
  noMaterials: z.boolean().default(false),
});

export const flowSchema = z.strictObject({
  id,
  title: text,
  ...englishFields,
  items: z.array(id).min(1),
  /** Situations users describe that this flow covers. */
  examples: z.array(text).min(8, 'needs at least 8 example situations'),
  keywords: z.array(text).default([]),
  intro: text.optional(),
  steps: z.array(stepSchema).default([]),
  routes: z.array(routeSchema).default([]),
  bring: z.array(bringSchema).default([]),
  commitment: z.strictObject({ text, days: z.number().int().positive() }).optional(),
  nextSteps: z.array(z.strictObject({ when: conditionSchema.optional(), text })).default([]),
});
export type Flow = z.infer<typeof flowSchema>;
export type Route = z.infer<typeof routeSchema>;
