import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const text = z.string().min(1);
const schema = z.strictObject({
  texts: z.strictObject({
    queued: text, position: text, urgent: text, noAgent: text, waitedTooLong: text, stillQueued: text,
    askMobile: text, badMobile: text, askSlot: text, badSlot: text, ticket: text, keepWaiting: text,
    cancelled: text, claimed: text, returned: text, transferred: text, closed: text, askComment: text, thanks: text,
  }),
  buttons: z.strictObject({ callback: text, wait: text, cancel: text }),
  words: z.strictObject({ cancel: z.array(text).min(1), skip: z.array(text).min(1) }),
  slots: z.array(text).min(1).max(8),
  reasons: z.record(z.string(), text),
  resolutions: z.array(z.strictObject({ code: z.string().regex(/^[a-z][a-z0-9-]*$/), label: text })).min(1),
  canned: z.array(text).default([]),
});

/** The handoff's words (knowledge/handoff.yaml). */
export type HandoffTexts = z.infer<typeof schema>;

/** Loads knowledge/handoff.yaml; a bad file throws naming the file and the field. */
export function loadHandoffTexts(knowledgeDir: string): HandoffTexts {
  const file = join(knowledgeDir, 'handoff.yaml');
  const r = schema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Fills `{name}` placeholders. */
export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** Text compared for control words: no spaces or punctuation. */
export function plain(s: string): string {
  return s.normalize('NFKC').replace(/[\s\p{P}]/gu, '');
}
