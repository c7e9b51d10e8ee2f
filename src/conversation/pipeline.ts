import type { Application, Logger, Message } from '../core/index.js';
import type { DialogueInput, DialogueResult, DialogueState, Effect } from '../dialogue/index.js';
import type { AnalyticsEvent, NewMessage, OutboxEntry } from '../store/index.js';

/** What a user sends: typed text or a button's postback. */
export type UserInput = { text: string } | { postback: string };

/** The stored session of one conversation. */
export interface Session {
  /** The channel the conversation lives on (`web`, `telegram`, `wechat`, `cli`). */
  channel: string;
  userId?: string;
  /** Secret returned at creation; reading or writing the conversation over HTTP needs it. */
  token?: string;
  /** Reply language chosen at start (`zh` default). */
  lang?: 'zh' | 'en';
  dialogue: DialogueState;
}

/**
 * One user message on its way through the pipeline: lock → dedupe → load → (agent holds?) → engine →
 * effects → redact → commit → publish. Each stage is a middleware; stages fill the fields below in that order.
 * The load stage puts the user's message first in `outgoing`; a stage that answers the turn itself (an agent
 * holds the conversation) sets `handled` and calls `next()`, so the user's message is still stored and published
 * while the engine stage, seeing `handled`, does nothing.
 */
export interface Turn {
  /** Turn id, on every log line of the turn. */
  readonly id: string;
  readonly conversationId: string;
  readonly channel: string;
  readonly input: UserInput;
  /** The client's id for this message (widget uuid, Telegram update_id, WeChat MsgId): a retry with it changes nothing. */
  readonly clientMessageId?: string;
  readonly now: Date;
  log: Logger;
  /** Loaded session (load stage). */
  session?: Session;
  /** The engine's result, after effects were run (engine and effects stages). */
  result?: DialogueResult;
  /** Applications created by effects in this turn; committed with it. */
  applications: Application[];
  /** Back-office entries (callbacks, handoff outcomes) committed with the turn; the commit stage adds one per application. */
  outbox: OutboxEntry[];
  /** Messages to append in the commit: the user's, then the replies (redaction masks them first). */
  outgoing: NewMessage[];
  /** Called by the commit stage just before the commit, after redaction (e.g. to describe the turn in `events`). */
  beforeCommit?: Array<(turn: Turn) => void>;
  /** Analytics events committed with the turn. */
  events?: AnalyticsEvent[];
  /** Stored messages after the commit (user message first). */
  stored?: Message[];
  /** Set when a stage answered the turn itself (duplicate clientMessageId, an agent holds the conversation). */
  handled?: 'duplicate' | 'agent' | 'engine';
}

/** A pipeline stage: does its part, calls `next()` to run the rest, may act after it returns (grammY/koa style). */
export type TurnMiddleware = (turn: Turn, next: () => Promise<void>) => Promise<void>;

/** Composes middleware into one function; `next()` called twice in one stage is a bug and throws. */
export function compose(stack: readonly TurnMiddleware[]): (turn: Turn) => Promise<void> {
  return (turn) => {
    let last = -1;
    const run = async (i: number): Promise<void> => {
      if (i <= last) throw new Error('next() called more than once');
      last = i;
      const mw = stack[i];
      if (mw) await mw(turn, () => run(i + 1));
    };
    return run(0);
  };
}

/** Runs one effect type; answers with the engine input it produces, or null. */
export interface EffectHandler<T extends Effect['type'] = Effect['type']> {
  readonly type: T;
  run(effect: Extract<Effect, { type: T }>, turn: Turn): Promise<DialogueInput | null>;
}

/** A handler for any one effect type (`EffectHandler<'handoff'>` and the others), without casts. */
export type AnyEffectHandler = { [T in Effect['type']]: EffectHandler<T> }[Effect['type']];

/** Engine state after the turn, as the API reports it. */
export type { DialogueState };
