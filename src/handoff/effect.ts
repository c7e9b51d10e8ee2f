import type { Masker, Message } from '../core/index.js';
import type { EffectHandler, Turn } from '../conversation/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Stores } from '../store/index.js';
import { buildPacketParts } from './packet.js';
import type { HandoffService } from './service.js';
import { fill } from './texts.js';
import { PRIORITIES, type Priority } from './types.js';
import type { NewMessage } from '../store/index.js';

/** Notices a turn adds after its commit (queue place, the hotline for urgent matters, the callback offer). */
export const turnNotices = new WeakMap<Turn, NewMessage[]>();

/** The queue priority: the classifier's own when it gave one, else from the reason (urgent > complaint > asked). */
export function priorityOf(effect: { reason: string; priority?: unknown; handoffReason?: unknown }): Priority {
  const p = typeof effect.priority === 'string' ? effect.priority : '';
  if ((PRIORITIES as readonly string[]).includes(p)) return p as Priority;
  if (p === 'high') return 'complaint';
  const reason = typeof effect.handoffReason === 'string' ? effect.handoffReason : effect.reason;
  if (reason === 'urgent') return 'urgent';
  if (reason === 'complaint' || reason === 'anger') return 'complaint';
  return 'asked';
}

/** What the effect handler needs. */
export interface HandoffEffectDeps {
  handoff: HandoffService;
  kb: KnowledgeBase;
  stores: Stores;
  mask: Masker;
}

/** The `handoff` effect: queues the conversation with its packet, and tells the user their place (and the hotline when urgent). */
export function queueHandoffEffect(deps: HandoffEffectDeps): EffectHandler<'handoff'> {
  const { handoff, kb, stores, mask } = deps;
  return {
    type: 'handoff',
    async run(effect, turn) {
      const loose = effect as typeof effect & { priority?: unknown; handoffReason?: unknown };
      const reason = typeof loose.handoffReason === 'string' && loose.handoffReason ? loose.handoffReason : effect.reason;
      const priority = priorityOf(loose);
      // A bare "转人工" says nothing about the problem; a longer message (or an urgent one) does.
      const typed = 'text' in turn.input ? turn.input.text.trim() : '';
      const current = typed && (priority !== 'asked' || [...typed].length > 8) ? mask(typed) : undefined;
      const parts = await buildPacketParts({ kb, stores, mask, conversationId: turn.conversationId, dialogue: turn.session?.dialogue, current, reasonLabel: handoff.reasonLabel(reason), note: effect.summary, seen: await handoff.seenItems(turn.conversationId) });
      const h = await handoff.enqueue({ conversationId: turn.conversationId, channel: turn.channel, reason, priority, ...parts });
      const { ahead, minutes } = await handoff.position(h.id);
      await handoff.told(h.id, ahead);
      const t = handoff.texts.texts;
      const at = turn.now.toISOString();
      const notices: NewMessage[] = [];
      if (priority === 'urgent') notices.push({ from: 'system', at, text: fill(t.urgent, handoff.vars()) });
      const none = (await handoff.agents.available()).length === 0;
      if (none) {
        await handoff.mutate(h.id, (x) => ({ ...x, callbackOffered: true }));
        const b = handoff.texts.buttons;
        notices.push({ from: 'system', at, text: fill(t.noAgent, handoff.vars()), quickReplies: [{ title: b.callback, postback: 'handoff:callback' }, { title: b.wait, postback: 'handoff:wait' }, { title: b.cancel, postback: 'handoff:cancel' }] });
      } else {
        notices.push({ from: 'system', at, text: fill(t.queued, { ahead, minutes }) });
      }
      turnNotices.set(turn, [...(turnNotices.get(turn) ?? []), ...notices]);
      turn.log.info({ handoffId: h.id, reason, priority, ahead }, 'handoff queued');
      return null;
    },
  };
}

/** Appends and publishes a turn's handoff notices after its commit, inside its lock, and returns them with the turn's replies. */
export function noticeStage(deps: { stores: Stores; publish: (conversationId: string, messages: Message[]) => Promise<void> }) {
  return async (turn: Turn, next: () => Promise<void>): Promise<void> => {
    await next();
    const notices = turnNotices.get(turn);
    if (!notices?.length || turn.handled === 'duplicate') return;
    const stored = await deps.stores.transcripts.append(turn.conversationId, notices);
    await deps.publish(turn.conversationId, stored).catch(() => undefined);
    turn.stored = [...(turn.stored ?? []), ...stored];
  };
}
