import { maskValue, type Masker } from '../core/index.js';
import type { Turn, TurnMiddleware } from '../conversation/index.js';
import { checkMobile } from '../dialogue/index.js';
import type { HandoffService } from './service.js';
import { fill, plain } from './texts.js';
import type { Handoff } from './types.js';

type Out = Turn['outgoing'][number];

/** The engine's mode back to the bot (the handoff is over); the rest of its state is untouched. */
function backToBot(turn: Turn): void {
  const s = turn.session!;
  const d = s.dialogue;
  if (d.mode !== 'handoff' && d.mode !== 'agent') return;
  const { handoffReason: _r, suspended, ...rest } = d;
  // An application the handoff interrupted is picked up again where it stopped.
  turn.session = { ...s, dialogue: suspended ? { ...rest, mode: 'flow', flow: suspended } : { ...rest, mode: 'bot' } };
}

function inputOf(turn: Turn): { text: string; postback?: string } {
  return 'text' in turn.input ? { text: turn.input.text.trim() } : { text: turn.input.postback, postback: turn.input.postback };
}

/**
 * "The bot is silent while an agent holds the conversation", before the engine. While queued it handles
 * 取消转人工, the callback ticket (mobile, then time slot) and "继续等待"; while claimed it answers nothing: the user's
 * message is stored and published (the console gets it from the bus). After close it takes the 1–5 rating and comment.
 */
export function agentHoldsStage(handoff: HandoffService, mask: Masker): TurnMiddleware {
  const t = handoff.texts;
  const cancelWords = new Set(t.words.cancel.map(plain));
  const skipWords = new Set(t.words.skip.map(plain));
  const reply = (turn: Turn, from: Out['from'], text: string, quickReplies?: Out['quickReplies']): void => {
    turn.outgoing.push({ from, at: turn.now.toISOString(), text, ...(quickReplies ? { quickReplies } : {}) });
  };
  const slotButtons = () => t.slots.map((s, i) => ({ title: s, postback: `handoff:slot:${i}` }));

  async function whileQueued(turn: Turn, h: Handoff): Promise<void> {
    const { text, postback } = inputOf(turn);
    const p = plain(text);
    if (postback === 'handoff:cancel' || cancelWords.has(p)) {
      await handoff.leave(h.id, 'cancelled');
      backToBot(turn);
      reply(turn, 'bot', t.texts.cancelled);
      void handoff.tellPositions().catch(() => undefined);
      return;
    }
    if (h.callbackStage === 'mobile' && !postback?.startsWith('handoff:')) {
      const m = checkMobile(text);
      if (!m.ok) return reply(turn, 'bot', t.texts.badMobile);
      const mobile = String(m.value);
      await handoff.mutate(h.id, (x) => ({
        ...x,
        callbackStage: 'slot',
        callbackMobile: mobile,
        secrets: [...x.secrets.filter((f) => f.name !== 'callback.mobile'), { name: 'callback.mobile', label: '回电手机号', masked: maskValue(mobile, 3, 4) }],
        raw: { ...x.raw, 'callback.mobile': mobile },
      }));
      return reply(turn, 'bot', t.texts.askSlot, slotButtons());
    }
    if (h.callbackStage === 'slot' && h.callbackMobile) {
      const i = postback?.startsWith('handoff:slot:') ? Number(postback.slice('handoff:slot:'.length)) : t.slots.findIndex((s) => plain(s) === p);
      const slot = t.slots[i];
      if (!slot) return reply(turn, 'bot', t.texts.badSlot, slotButtons());
      const ticket = await handoff.createCallback({ mobile: h.callbackMobile, slot, handoffId: h.id, conversationId: h.conversationId });
      await handoff.leave(h.id, 'callback', { callbackTicket: ticket.id, callbackStage: undefined });
      backToBot(turn);
      reply(turn, 'bot', fill(t.texts.ticket, { ticket: ticket.id, slot, mobile: maskValue(h.callbackMobile, 3, 4) }));
      void handoff.tellPositions().catch(() => undefined);
      return;
    }
    if (postback === 'handoff:callback' || p === plain(t.buttons.callback)) {
      await handoff.mutate(h.id, (x) => ({ ...x, callbackStage: 'mobile' }));
      return reply(turn, 'bot', t.texts.askMobile);
    }
    const { ahead } = await handoff.position(h.id);
    if (postback === 'handoff:wait' || p === plain(t.buttons.wait)) return reply(turn, 'system', fill(t.texts.keepWaiting, { ahead }));
    reply(turn, 'system', fill(t.texts.stillQueued, { ahead }));
  }

  async function rating(turn: Turn, h: Handoff): Promise<boolean> {
    const { text, postback } = inputOf(turn);
    if (h.rating?.stage === 'score') {
      const m = (postback ?? text).match(/^(?:rate:)?([1-5])\s*(?:分|星)?$/);
      if (!m) {
        await handoff.rate(h.id, { done: true });
        return false;
      }
      await handoff.rate(h.id, { score: Number(m[1]), done: false });
      reply(turn, 'bot', t.texts.askComment);
      return true;
    }
    const skip = skipWords.has(plain(text)) || postback !== undefined;
    await handoff.rate(h.id, { ...(skip ? {} : { comment: mask(text).slice(0, 500) }), done: true });
    reply(turn, 'bot', t.texts.thanks);
    return true;
  }

  return async (turn, next) => {
    const { active: h, rating: pending } = await handoff.holdsFor(turn.conversationId);
    if (h) {
      turn.handled = 'agent';
      if (h.status === 'queued') await whileQueued(turn, h);
      else if (h.agent) turn.log.info({ handoffId: h.id, agent: h.agent }, 'agent holds the conversation: the bot is silent');
      return next();
    }
    if (pending && (await rating(turn, pending))) {
      turn.handled = 'agent';
      backToBot(turn);
      return next();
    }
    backToBot(turn);
    const before = itemOf(turn.session!.dialogue);
    await next();
    const after = turn.handled === 'engine' ? itemOf(turn.session?.dialogue) : undefined;
    if (after && after !== before) await handoff.noteSeen(turn.conversationId, after).catch(() => undefined);
  };
}

/** The guide the engine is discussing (read loosely: the engine's state is its own). */
function itemOf(dialogue: unknown): string | undefined {
  const id = (dialogue as { itemId?: unknown } | undefined)?.itemId;
  return typeof id === 'string' ? id : undefined;
}
