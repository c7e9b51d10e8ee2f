import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { analyticsMiddleware, ratingEvent } from '../../src/analytics/index.js';
import { createConversationService, type ConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import type { KnowledgeBase } from '../../src/knowledge/index.js';
import type { Classifier } from '../../src/nlu/index.js';
import type { Stores } from '../../src/store/index.js';

const turn = z.union([z.strictObject({ user: z.string() }), z.strictObject({ click: z.string() }), z.strictObject({ rating: z.number().int().min(1).max(5) })]);
const counts = z.record(z.string(), z.number());
const script = z.strictObject({
  conversations: z.array(z.strictObject({ id: z.string(), channel: z.enum(['web', 'telegram']).default('web'), start: z.string().datetime(), turns: z.array(turn) })),
  expect: z.strictObject({
    from: z.string(),
    to: z.string(),
    conversations: z.number(),
    contained: z.number(),
    botTurns: z.number(),
    clarify: z.number(),
    fallback: z.number(),
    noneOfThese: z.number(),
    topItems: counts,
    containmentByItem: counts,
    handoffReasons: counts,
    csat: z.record(z.string(), z.number()),
    applications: counts,
    funnel: z.record(z.string(), z.strictObject({ started: z.number(), submitted: z.number(), abandoned: counts })),
    daily: z.record(z.string(), z.strictObject({ items: counts, flows: counts })),
    unanswered: z.array(z.strictObject({ label: z.string(), count: z.number(), fallback: z.number(), noneOfThese: z.number() })),
  }),
});

/** The scripted day, validated. */
export type ScriptedDay = z.infer<typeof script>;

/** Reads test/analytics/scripted-day.yaml. */
export function loadScriptedDay(): ScriptedDay {
  return script.parse(parse(readFileSync(new URL('./scripted-day.yaml', import.meta.url), 'utf8')));
}

/** Plays every conversation through a service with the analytics middleware, on a clock that moves 30 s per turn. */
export async function playScriptedDay(day: ScriptedDay, deps: { kb: KnowledgeBase; classifier: Classifier; stores: Stores }): Promise<ConversationService> {
  let clock = new Date(0);
  const mw = analyticsMiddleware({ events: deps.stores.events, transcripts: deps.stores.transcripts });
  const service = createConversationService({ ...deps, logger: createLogger('silent'), now: () => clock, middleware: { beforeEngine: [mw.beforeEngine], afterCommit: [mw.afterCommit] } });
  for (const c of day.conversations) {
    clock = new Date(c.start);
    const started = await service.start(c.channel === 'telegram' ? { conversationId: `telegram:${c.id}` } : {});
    const id = started.conversationId;
    let last: Message[] = started.messages;
    for (const t of c.turns) {
      clock = new Date(clock.getTime() + 30_000);
      if ('rating' in t) {
        await deps.stores.events.append([ratingEvent({ conversationId: id, channel: c.channel, score: t.rating, at: clock })]);
        continue;
      }
      if ('user' in t) {
        last = (await service.send(id, { text: t.user })).messages;
        continue;
      }
      const button = [...last].reverse().flatMap((m) => m.quickReplies ?? []).find((q) => q.title === t.click);
      if (!button) throw new Error(`${c.id}: no button ${t.click} in ${JSON.stringify(last.map((m) => m.text))}`);
      last = (await service.send(id, { postback: button.postback })).messages;
    }
  }
  return service;
}
