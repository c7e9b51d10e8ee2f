import { AppError, type Application, type Logger, type Masker, type Message, type Reply } from '../core/index.js';
import { migrate, step, STATE_VERSION, typedText, type DialogueContext, type DialogueInput, type DialogueResult } from '../dialogue/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { MessageBus } from '../delivery/types.js';
import type { Classifier, DenseIndex } from '../nlu/index.js';
import type { NewMessage, OutboxEntry, Stores } from '../store/index.js';
import { channelOf } from '../channels/types.js';
import { abandonStaleFlow, FLOW_ABANDONED_NOTICE } from './abandon.js';
import type { EffectRegistry } from './effects.js';
import type { Session, Turn, TurnMiddleware } from './pipeline.js';

/** Hard cap on effect round trips per message, so a bad flow cannot loop. */
const MAX_EFFECT_ROUNDS = 4;

/** Loads a session, migrated to the current schema; CONVERSATION_NOT_FOUND when there is none. */
export async function loadSession(stores: Stores, conversationId: string): Promise<Session> {
  return sessionOf(await stores.sessions.get<Session>(conversationId), conversationId);
}

function sessionOf(rec: { state: Session } | null, conversationId: string): Session {
  if (!rec) throw new AppError('CONVERSATION_NOT_FOUND');
  return { ...rec.state, channel: rec.state.channel ?? channelOf(conversationId), dialogue: migrate(rec.state.dialogue) };
}

/** One turn per conversation at a time, across instances where the lock backend allows. */
export function lockStage(stores: Stores): TurnMiddleware {
  return (turn, next) => stores.locks.withLock(turn.conversationId, next);
}

/** A retry with a known clientMessageId gets the stored messages back; nothing runs, nothing is written. */
export function dedupeStage(stores: Stores): TurnMiddleware {
  return async (turn, next) => {
    if (turn.clientMessageId) {
      const found = await stores.findTurn(turn.conversationId, turn.clientMessageId);
      if (found) {
        turn.stored = found;
        turn.handled = 'duplicate';
        turn.log.info('duplicate clientMessageId: stored replies returned');
        return;
      }
    }
    await next();
  };
}

/**
 * Loads the session and queues the user's message first in `outgoing`. A flow idle longer than `abandonMinutes`
 * is dropped first (its raw answers leave the session), and the user is told so once, before the reply.
 */
export function loadStage(stores: Stores, abandonMinutes?: number): TurnMiddleware {
  return async (turn, next) => {
    const rec = await stores.sessions.get<Session>(turn.conversationId);
    turn.session = sessionOf(rec, turn.conversationId);
    const text = 'text' in turn.input ? turn.input.text : turn.input.postback;
    turn.outgoing.push({ from: 'user', text, at: turn.now.toISOString() });
    const stale = abandonStaleFlow(turn.session.dialogue, turn.now, { updatedAt: rec?.updatedAt, abandonMinutes });
    if (stale.abandoned) {
      turn.session = { ...turn.session, dialogue: stale.state };
      turn.outgoing.push({ from: 'bot', text: FLOW_ABANDONED_NOTICE, at: turn.now.toISOString() });
      turn.log.info('idle flow abandoned: its answers were dropped from the session');
    }
    await next();
  };
}

/** What the engine stage reads. */
export interface EngineDeps {
  kb: KnowledgeBase;
  classifier: Classifier;
  dense?: DenseIndex;
  effects: EffectRegistry;
}

/** Stamps replies as stored messages of one sender. */
export function stamp(replies: Reply[], from: NewMessage['from'], at: Date): NewMessage[] {
  return replies.map((r) => ({ ...r, from, at: at.toISOString() }));
}

/** Runs the engine and its effects (unless an earlier stage answered the turn) and queues the replies. */
export function engineStage(deps: EngineDeps): TurnMiddleware {
  return async (turn, next) => {
    if (!turn.handled) {
      const session = turn.session!;
      const result = await runEngine(deps, turn, await contextFor(deps, turn));
      turn.result = result;
      turn.session = { ...session, dialogue: result.state };
      turn.outgoing.push(...stamp(result.replies, 'bot', turn.now));
      turn.handled = 'engine';
    }
    await next();
  };
}

/** Dense retrieval is async, so it runs before the (pure, synchronous) engine and is handed in for this text only. */
async function contextFor(deps: EngineDeps, turn: Turn): Promise<DialogueContext> {
  const text = 'text' in turn.input ? turn.input.text : '';
  const dense = deps.dense && text.trim() ? await deps.dense.query(text.slice(0, 400), 8).catch(() => undefined) : undefined;
  const classifier: Classifier = dense
    ? { ...deps.classifier, classify: (t, th) => deps.classifier.classify(t, th, t === text ? dense : undefined) }
    : deps.classifier.prefetch && text.trim()
      ? await deps.classifier.prefetch(typedText(text))
      : deps.classifier;
  return { kb: deps.kb, classifier, now: turn.now, conversationId: turn.conversationId, ...(turn.session?.lang ? { lang: turn.session.lang } : {}) };
}

/** One engine step, then the effects' answers fed back in, a few rounds at most. */
async function runEngine(deps: EngineDeps, turn: Turn, ctx: DialogueContext): Promise<DialogueResult> {
  const input: DialogueInput = 'text' in turn.input ? { kind: 'text', text: turn.input.text } : { kind: 'postback', payload: turn.input.postback };
  let result = step(ctx, turn.session!.dialogue, input);
  const replies = [...result.replies];
  for (let round = 0; round < MAX_EFFECT_ROUNDS && result.effects.length; round++) {
    const effects = result.effects;
    result = { ...result, effects: [] };
    for (const effect of effects) {
      const answer = await deps.effects.run(effect, turn);
      if (!answer) continue;
      const r = step(ctx, result.state, answer);
      replies.push(...r.replies);
      result = { replies: [], state: r.state, effects: [...result.effects, ...r.effects] };
    }
  }
  return { ...result, replies };
}

/** Masks personal numbers in everything the turn stores: the user's message and every reply. */
export function redactStage(mask: Masker): TurnMiddleware {
  return async (turn, next) => {
    turn.outgoing = turn.outgoing.map((m) => redactMessage(mask, m));
    await next();
  };
}

/** A message with personal numbers masked; the utility's published examples stay in the bot's own messages. */
export function redactMessage<M extends NewMessage>(mask: Masker, m: M): M {
  const allowPublic = m.from === 'bot';
  const text = mask(m.text, { allowPublic });
  const card = m.card ? (maskStrings(m.card, (s) => mask(s, { allowPublic })) as M['card']) : undefined;
  const quickReplies = m.quickReplies?.map((q) => ({ ...q, title: mask(q.title, { allowPublic }) }));
  return { ...m, text, ...(card ? { card } : {}), ...(quickReplies ? { quickReplies } : {}) };
}

function maskStrings(value: unknown, mask: (s: string) => string): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, mask));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'type' ? v : maskStrings(v, mask)]));
  return value;
}

/** The back-office entry of an application: one per flow run (or ref), carrying the ref only; the dispatcher reads the record. */
export function applicationOutboxEntry(app: Application, at: Date): OutboxEntry {
  return { id: `application:${app.runId ?? app.ref}`, kind: 'application', payload: { ref: app.ref, flowId: app.flowId }, createdAt: at.toISOString() };
}

/** Writes the session, the messages, the applications, their outbox entries and the turn's events as one unit (stores.commitTurn). */
export function commitStage(stores: Stores): TurnMiddleware {
  return async (turn, next) => {
    if (turn.session && turn.outgoing.length) {
      for (const hook of turn.beforeCommit ?? []) hook(turn);
      const outbox = [...turn.applications.map((a) => applicationOutboxEntry(a, turn.now)), ...turn.outbox];
      turn.stored = await stores.commitTurn({
        conversationId: turn.conversationId,
        session: { schemaVersion: STATE_VERSION, state: turn.session, updatedAt: turn.now.toISOString() },
        messages: turn.outgoing,
        applications: turn.applications,
        ...(outbox.length ? { outbox } : {}),
        ...(turn.events?.length ? { events: turn.events } : {}),
        ...(turn.clientMessageId ? { clientMessageId: turn.clientMessageId } : {}),
      });
    }
    await next();
  };
}

/** Publishes the stored messages on the bus; a failed publish is logged (clients catch up from the transcript). */
export function publishStage(bus: MessageBus | undefined): TurnMiddleware {
  return async (turn, next) => {
    if (bus && turn.stored?.length && turn.handled !== 'duplicate') await safePublish(bus, turn.conversationId, turn.stored, turn.log);
    await next();
  };
}

/** Publishes, never throwing: the transcript is the source of truth. */
export async function safePublish(bus: MessageBus, conversationId: string, messages: Message[], log: Logger): Promise<void> {
  try {
    await bus.publish(conversationId, messages);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'publish failed; clients catch up by seq');
  }
}

/** Logs each turn once, with its outcome and duration (never the text: it may hold personal numbers). */
export function loggingMiddleware(): TurnMiddleware {
  return async (turn, next) => {
    const started = performance.now();
    try {
      await next();
      turn.log.info({ handled: turn.handled, replies: Math.max(0, (turn.stored?.length ?? 1) - 1), ms: Math.round(performance.now() - started) }, 'turn');
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      if (code === 'INTERNAL' || (err instanceof AppError && err.status >= 500)) turn.log.error({ err, code }, 'turn failed');
      else turn.log.info({ code }, 'turn refused');
      throw err;
    }
  };
}

/** What a metrics hook receives after each turn. */
export interface TurnMetrics {
  conversationId: string;
  channel: string;
  handled?: Turn['handled'];
  /** Error code when the turn failed. */
  error?: string;
  durationMs: number;
  /** Engine state after the turn, when the engine ran. */
  mode?: string;
  flowId?: string;
  itemId?: string;
}

/** Calls `observe` after every turn, failed or not (the operations area feeds prom-client from it). */
export function metricsMiddleware(observe: (m: TurnMetrics) => void): TurnMiddleware {
  return async (turn, next) => {
    const started = performance.now();
    let error: string | undefined;
    try {
      await next();
    } catch (err) {
      error = err instanceof AppError ? err.code : 'INTERNAL';
      throw err;
    } finally {
      const d = turn.session?.dialogue;
      try {
        observe({ conversationId: turn.conversationId, channel: turn.channel, handled: turn.handled, error, durationMs: performance.now() - started, mode: d?.mode, flowId: d?.mode === 'flow' ? d.flow.id : undefined, itemId: d?.itemId });
      } catch {
        // a broken metrics hook never fails a turn
      }
    }
  };
}
