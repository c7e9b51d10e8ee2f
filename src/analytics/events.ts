import type { Turn, TurnMiddleware } from '../conversation/index.js';
import type { Logger, Reply } from '../core/index.js';
import { isoDay, type DialogueState, type FlowState } from '../dialogue/index.js';
import type { AnalyticsEvent, EventStore, NewMessage, TranscriptStore } from '../store/index.js';

/** What one turn did, as the knowledge authors count it. */
export type TurnDecision = 'answer' | 'clarify' | 'fallback' | 'flow-start' | 'flow-step' | 'flow-exit' | 'application' | 'handoff' | 'lookup' | 'agent' | 'other';

/** The data of a 'turn' event. */
export interface TurnEventData {
  decision: TurnDecision;
  itemId?: string;
  flowId?: string;
  /** The flow step asked after this turn, while a flow runs. */
  flowStep?: string;
  /** A flow left without an application: the step (or phase) it was left at. */
  abandonedFlow?: string;
  abandonedAt?: string;
  handoffReason?: string;
  applicationFlow?: string;
  /** The user pressed "都不是" on a clarify menu. */
  noneOfThese?: boolean;
  /** Masked text: the user's message on a fallback; the question that led to the menu on a "都不是" click. */
  text?: string;
}

/** The data of a 'rating' event (emitted by the handoff module after a conversation with an agent, or by a survey). */
export interface RatingEventData {
  /** 1 (very unsatisfied) to 5 (very satisfied). */
  score: number;
  itemId?: string;
  agentId?: string;
}

/** The postback of the clarify menu's "都不是" button. */
export const NONE_OF_THESE = 'handoff:none';

const hasButton = (replies: Reply[], test: (postback: string) => boolean) => replies.some((r) => r.quickReplies?.some((q) => test(q.postback)));

/** The application in progress in a state, if any: one kept while a person has the conversation is still open. */
function flowIn(s: DialogueState): FlowState | undefined {
  if (s.mode === 'flow') return s.flow;
  return s.mode === 'handoff' || s.mode === 'agent' ? s.suspended : undefined;
}

/** Classifies one turn from the dialogue state before and after it and its replies (the engine is not asked: it stays pure). */
export function describeTurn(before: DialogueState | undefined, after: DialogueState | undefined, turn: Pick<Turn, 'handled' | 'applications' | 'input'>, replies: Reply[]): TurnEventData {
  if (turn.handled === 'agent' || !after) return { decision: 'agent' };
  const prev = before ?? after;
  // While a person has the conversation the bot stays quiet: such turns are the agent's, not the bot's.
  const held = (m: DialogueState['mode']) => m === 'handoff' || m === 'agent';
  if (held(prev.mode) && held(after.mode)) return { decision: 'agent' };
  const d: TurnEventData = { decision: 'other' };
  const app = turn.applications[0];
  const was = flowIn(prev);
  const now = flowIn(after);
  if (was && (!now || now.id !== was.id) && !app) {
    d.abandonedFlow = was.id;
    d.abandonedAt = was.questionId ?? was.phase;
  }
  if (now) {
    d.flowId = now.id;
    d.flowStep = now.questionId ?? now.phase;
  }
  if ('postback' in turn.input && turn.input.postback === NONE_OF_THESE) d.noneOfThese = true;
  if (app) {
    d.decision = 'application';
    d.applicationFlow = app.flowId;
    d.flowId = app.flowId;
  } else if (after.mode === 'handoff' && prev.mode !== 'handoff') {
    d.decision = 'handoff';
    d.handoffReason = after.handoffReason ?? 'unknown';
  } else if (now && (!was || was.id !== now.id)) d.decision = 'flow-start';
  else if (now) d.decision = 'flow-step';
  else if (d.abandonedFlow) d.decision = 'flow-exit';
  else if (after.fallbacks > prev.fallbacks) d.decision = 'fallback';
  else if (hasButton(replies, (p) => p === NONE_OF_THESE)) d.decision = 'clarify';
  else if (replies.some((r) => r.card?.type === 'guide') || (after.itemId && hasButton(replies, (p) => p.startsWith(`item:${after.itemId}:`)))) d.decision = 'answer';
  else if (replies.some((r) => r.card?.type === 'application') || (prev.mode === 'bot' && prev.lookupRef !== undefined)) d.decision = 'lookup';
  if (d.decision === 'answer') {
    const guide = replies.find((r) => r.card?.type === 'guide')?.card;
    d.itemId = guide?.type === 'guide' ? guide.itemId : after.itemId;
  }
  return d;
}

/** What the analytics middleware writes to. */
export interface AnalyticsDeps {
  events: EventStore;
  /** For the question before a "都不是" click. */
  transcripts: TranscriptStore;
}

/**
 * The analytics stages: `beforeEngine` keeps the state the turn started from and has the commit stage describe the
 * turn (masked texts only: the redact stage ran before), so its event is written in the turn's own commit. A "都不是"
 * click's event quotes the question before it, read by seq once the turn is stored: `afterCommit` writes that one, a
 * failed write logged, never failing the turn.
 */
export function analyticsMiddleware(deps: AnalyticsDeps): { beforeEngine: TurnMiddleware; afterCommit: TurnMiddleware } {
  const late = new WeakMap<Turn, TurnEventData>();
  return {
    async beforeEngine(turn, next) {
      // The engine returns a new state and never changes the one it was given, so a reference keeps the start.
      const before = turn.session?.dialogue;
      (turn.beforeCommit ??= []).push((t) => {
        const [user, ...replies] = t.outgoing;
        const data = turnData(t, before, user, replies);
        if (data.noneOfThese) late.set(t, data);
        else (t.events ??= []).push(turnEvent(t, data));
      });
      await next();
    },
    async afterCommit(turn, next) {
      const data = late.get(turn);
      const user = turn.stored?.[0];
      if (data && user && turn.handled !== 'duplicate') {
        try {
          data.text = await questionBefore(deps.transcripts, turn.conversationId, user.seq);
          await deps.events.append([turnEvent(turn, data)]);
        } catch (err) {
          (turn.log as Logger).warn({ err: (err as Error).message }, 'analytics event not written');
        }
      }
      await next();
    },
  };
}

function turnData(turn: Turn, before: DialogueState | undefined, user: NewMessage | undefined, replies: Reply[]): TurnEventData {
  const data = describeTurn(before, turn.session?.dialogue, turn, replies);
  if (data.decision === 'fallback' && user && 'text' in turn.input) data.text = user.text;
  return data;
}

function turnEvent(turn: Turn, data: TurnEventData): AnalyticsEvent {
  return { kind: 'turn', at: turn.now.toISOString(), day: isoDay(turn.now), conversationId: turn.conversationId, channel: turn.channel, data: strip(data) };
}

/** The last typed user message before `seq` (the question a clarify menu answered), as stored: masked. */
async function questionBefore(transcripts: TranscriptStore, conversationId: string, seq: number): Promise<string | undefined> {
  const recent = await transcripts.list(conversationId, Math.max(0, seq - 12), 12);
  return recent.filter((m) => m.seq < seq && m.from === 'user' && !/^[a-z-]+:[\w:-]*$/.test(m.text)).at(-1)?.text;
}

function strip(d: TurnEventData): Record<string, unknown> {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined));
}

/** A rating event, for the handoff module (CSAT after an agent conversation) to append to `stores.events`. */
export function ratingEvent(o: { conversationId: string; channel: string; score: number; itemId?: string; agentId?: string; at?: Date }): AnalyticsEvent {
  const at = o.at ?? new Date();
  const score = Math.min(5, Math.max(1, Math.round(o.score)));
  const data: RatingEventData = { score, ...(o.itemId ? { itemId: o.itemId } : {}), ...(o.agentId ? { agentId: o.agentId } : {}) };
  return { kind: 'rating', at: at.toISOString(), day: isoDay(at), conversationId: o.conversationId, channel: o.channel, data: { ...data } };
}
