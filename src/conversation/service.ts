import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, createMasker, maskValue, personalNumbersIn, type Application, type Logger, type Masker, type Message, type Reply } from '../core/index.js';
import { initialState, step, STATE_VERSION, type DialogueState } from '../dialogue/index.js';
import type { MessageBus } from '../delivery/types.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Classifier, DenseIndex } from '../nlu/index.js';
import type { Stores } from '../store/index.js';
import { channelOf, type ChannelAdapter } from '../channels/types.js';
import { defaultEffects, EffectRegistry } from './effects.js';
import { compose, type AnyEffectHandler, type Session, type Turn, type TurnMiddleware, type UserInput } from './pipeline.js';
import { commitStage, dedupeStage, engineStage, loadSession, loadStage, lockStage, loggingMiddleware, metricsMiddleware, publishStage, redactMessage, redactStage, safePublish, stamp, type TurnMetrics } from './stages.js';

export type { UserInput };

/** The conversation state the API reports. */
export interface ApiState {
  mode: DialogueState['mode'];
  itemId?: string;
  flowId?: string;
  applicationRef?: string;
}

/** The transcript page size: default and most. */
export const HISTORY_LIMIT = { default: 100, max: 500 } as const;

/** Runs conversations: sessions, transcript, the turn pipeline and delivery, one message at a time per conversation. */
export interface ConversationService {
  /** Creates a conversation (welcome message) or, when `conversationId` names an existing one, returns it with created:false and no messages. */
  start(opts?: StartOptions): Promise<{ conversationId: string; token: string; messages: Message[]; created: boolean }>;
  /** Runs one user turn through the pipeline. A repeated clientMessageId returns the stored replies with duplicate:true. */
  send(conversationId: string, input: UserInput, opts?: { clientMessageId?: string }): Promise<{ messages: Message[]; state: ApiState; duplicate?: boolean }>;
  /** Transcript after `after` (seq), at most `limit` (default 100, max 500). */
  history(conversationId: string, after?: number, limit?: number): Promise<Message[]>;
  /** Appends agent or system messages without a user turn, publishes them, and pushes them through the channel adapter's send. */
  post(conversationId: string, messages: Array<Reply & { from: 'agent' | 'system' }>): Promise<Message[]>;
  /** True when `token` is the conversation's secret. */
  authorize(conversationId: string, token: string): Promise<boolean>;
  /** The application, masked, when the mobile matches; otherwise null. */
  findApplication(ref: string, mobile: string): Promise<PublicApplication | null>;
  /** Swaps the knowledge base and classifier (and dense index) for every turn that starts after the call (hot reload). */
  reload(next: { kb: KnowledgeBase; classifier: Classifier; dense?: DenseIndex }): void;
}

/** Options of `start`. */
export interface StartOptions {
  userId?: string;
  /** Channel name; defaults to the address's `<channel>:` part, `web` for plain ids. */
  channel?: string;
  /** Open this address (`telegram:<chat id>`): created on first use, found again afterwards. */
  conversationId?: string;
  lang?: 'zh' | 'en';
}

/** An application as shown outside: no raw personal numbers. */
export type PublicApplication = Omit<Application, 'answers' | 'mobile' | 'conversationId' | 'commitment'> & { mobile: string; commitment?: { accepted: boolean; dueBy?: string } };

/** Finds the adapter of a channel, for proactive delivery (`post`). */
export interface ChannelLookup {
  get(name: string): ChannelAdapter | undefined;
}

/** Extra pipeline stages, by where they go. */
export interface PipelineMiddleware {
  /** Outermost, around the whole turn (tracing, events). */
  around?: TurnMiddleware[];
  /** After load, before the engine: e.g. "the bot is silent while an agent holds the conversation". */
  beforeEngine?: TurnMiddleware[];
  /** After commit and publish, inside the lock (notifications). */
  afterCommit?: TurnMiddleware[];
}

/** What the service is built from. */
export interface ConversationDeps {
  kb: KnowledgeBase;
  classifier: Classifier;
  stores: Stores;
  logger: Logger;
  now?: () => Date;
  dense?: DenseIndex;
  /** Delivery of every appended message; without it nothing is published. */
  bus?: MessageBus;
  /** Channel adapters for proactive `send` on push channels. */
  channels?: ChannelLookup;
  middleware?: PipelineMiddleware;
  /** Effect handlers, over the defaults: one for a type replaces the default handler of that type. */
  effects?: AnyEffectHandler[];
  /** Called after every turn (metrics). */
  onTurn?: (m: TurnMetrics) => void;
  /** The masking function; by default the shared one with the utility's 户号 format. */
  mask?: Masker;
  /** Minutes a flow may sit idle before its answers are dropped (FLOW_ABANDON_MINUTES, default 60). */
  flowAbandonMinutes?: number;
}

/** Numbers the utility publishes itself (examples in prompts and guides): not personal. */
export function publicNumbers(kb: KnowledgeBase): string[] {
  const text = JSON.stringify([kb.utility, [...kb.items.values()], [...kb.flows.values()], kb.smalltalk]);
  return personalNumbersIn(text, kb.utility.accountNumber.pattern);
}

/** The shared masker for a knowledge base: its 户号 format, its published examples allowed in bot replies. */
export function maskerFor(kb: KnowledgeBase): Masker {
  return createMasker({ accountPattern: kb.utility.accountNumber.pattern, allow: publicNumbers(kb) });
}

/** The turn pipeline in order: logging, metrics, lock, dedupe, load, before-engine hooks, engine + effects, redact, commit, publish. */
export function buildPipeline(deps: ConversationDeps, mask: Masker): TurnMiddleware[] {
  const { stores } = deps;
  const effects = new EffectRegistry([...defaultEffects(stores), ...(deps.effects ?? [])]);
  const mw = deps.middleware ?? {};
  return [
    loggingMiddleware(),
    ...(deps.onTurn ? [metricsMiddleware(deps.onTurn)] : []),
    ...(mw.around ?? []),
    lockStage(stores),
    dedupeStage(stores),
    loadStage(stores, deps.flowAbandonMinutes),
    ...(mw.beforeEngine ?? []),
    // Read at each turn, so a reload() of the knowledge reaches the next turn.
    engineStage({ get kb() { return deps.kb; }, get classifier() { return deps.classifier; }, get dense() { return deps.dense; }, effects }),
    redactStage(mask),
    commitStage(stores),
    publishStage(deps.bus),
    ...(mw.afterCommit ?? []),
  ];
}

const toState = (d: DialogueState): ApiState => ({
  mode: d.mode,
  ...(d.itemId ? { itemId: d.itemId } : {}),
  ...(d.mode === 'flow' ? { flowId: d.flow.id } : {}),
  ...(d.applications.length ? { applicationRef: d.applications.at(-1) } : {}),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Creates the conversation service on given stores. */
export function createConversationService(deps: ConversationDeps): ConversationService {
  const { stores, logger, bus } = deps;
  // The knowledge in use: reload() replaces kb, classifier and dense here, and the pipeline reads them per turn.
  const live: ConversationDeps = { ...deps };
  const now = deps.now ?? (() => new Date());
  let kbMask = maskerFor(live.kb);
  const mask: Masker = deps.mask ?? ((text, opts) => kbMask(text, opts));
  const run = compose(buildPipeline(live, mask));

  /** Pushes messages through a push channel's adapter (live channels get them from the bus). */
  async function push(conversationId: string, channel: string, messages: Message[], log: Logger): Promise<void> {
    const adapter = deps.channels?.get(channel);
    if (!adapter || adapter.capabilities.live) return;
    try {
      await adapter.send(conversationId, messages);
    } catch (err) {
      log.warn({ err: (err as Error).message, channel }, 'proactive send failed; the message is in the transcript');
    }
  }

  return {
    async start(opts = {}) {
      const conversationId = opts.conversationId ?? randomUUID();
      const channel = opts.channel ?? channelOf(conversationId);
      return stores.locks.withLock(conversationId, async () => {
        if (opts.conversationId) {
          const existing = await stores.sessions.get<Session>(conversationId);
          if (existing) return { conversationId, token: existing.state.token ?? '', messages: [], created: false };
        }
        const token = randomBytes(24).toString('base64url');
        const at = now();
        const r = step({ kb: live.kb, classifier: live.classifier, now: at, conversationId, ...(opts.lang ? { lang: opts.lang } : {}) }, initialState(), { kind: 'start' });
        const session: Session = { channel, ...(opts.userId ? { userId: opts.userId } : {}), ...(opts.lang ? { lang: opts.lang } : {}), token, dialogue: r.state };
        const messages = stamp(r.replies, 'bot', at).map((m) => redactMessage(mask, m));
        const stored = await stores.commitTurn({ conversationId, session: { schemaVersion: STATE_VERSION, state: session, updatedAt: at.toISOString() }, messages, applications: [] });
        const log = logger.child({ conversationId });
        if (bus) await safePublish(bus, conversationId, stored, log);
        log.info({ channel }, 'conversation started');
        return { conversationId, token, messages: stored, created: true };
      });
    },

    async send(conversationId, input, opts = {}) {
      const id = randomUUID();
      const turn: Turn = {
        id,
        conversationId,
        channel: channelOf(conversationId),
        input,
        ...(opts.clientMessageId ? { clientMessageId: opts.clientMessageId } : {}),
        now: now(),
        log: logger.child({ turnId: id, conversationId }),
        applications: [],
        outbox: [],
        outgoing: [],
      };
      await run(turn);
      const session = turn.session ?? (await loadSession(stores, conversationId));
      return { messages: (turn.stored ?? []).slice(1), state: toState(session.dialogue), ...(turn.handled === 'duplicate' ? { duplicate: true } : {}) };
    },

    async history(conversationId, after = 0, limit = HISTORY_LIMIT.default) {
      if (!(await stores.sessions.get(conversationId))) throw new AppError('CONVERSATION_NOT_FOUND');
      const n = Math.max(1, Math.min(HISTORY_LIMIT.max, Math.floor(limit) || HISTORY_LIMIT.default));
      return (await stores.transcripts.list(conversationId, after)).slice(0, n);
    },

    async post(conversationId, messages) {
      if (!messages.length) {
        await loadSession(stores, conversationId);
        return [];
      }
      const log = logger.child({ conversationId });
      const { stored, channel } = await stores.locks.withLock(conversationId, async () => {
        const session = await loadSession(stores, conversationId);
        const at = now().toISOString();
        const added = await stores.transcripts.append(conversationId, messages.map((m) => redactMessage(mask, { ...m, at })));
        if (bus) await safePublish(bus, conversationId, added, log);
        return { stored: added, channel: session.channel };
      });
      log.info({ count: stored.length, from: [...new Set(messages.map((m) => m.from))] }, 'messages posted');
      await push(conversationId, channel, stored, log);
      return stored;
    },

    async authorize(conversationId, token) {
      const rec = await stores.sessions.get<Session>(conversationId);
      const secret = rec?.state.token;
      if (!secret || typeof token !== 'string' || !token) return false;
      return timingSafeEqual(digest(secret), digest(token));
    },

    async findApplication(ref, mobile) {
      const app = await stores.applications.get(ref.toUpperCase());
      if (!app || app.mobile !== mobile.trim()) return null;
      const { answers: _a, conversationId: _c, commitment, ...rest } = app;
      return { ...rest, mobile: maskValue(app.mobile, 3, 4), ...(commitment ? { commitment: { accepted: commitment.accepted, dueBy: commitment.dueBy } } : {}) };
    },

    reload(next) {
      live.kb = next.kb;
      live.classifier = next.classifier;
      live.dense = next.dense;
      kbMask = maskerFor(next.kb);
      logger.info({ knowledgeHash: next.kb.hash, items: next.kb.items.size, flows: next.kb.flows.size }, 'knowledge swapped in');
    },
  };
}
