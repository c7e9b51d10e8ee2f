import { randomUUID } from 'node:crypto';
import { AppError, maskValue, type Application, type Logger, type Message, type Mode, type Reply } from '../core/index.js';
import { initialState, isoDay, migrate, step, STATE_VERSION, type DialogueContext, type DialogueInput, type DialogueResult, type DialogueState } from '../dialogue/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Classifier, DenseIndex } from '../nlu/index.js';
import type { Stores } from '../store/index.js';

/** The conversation state the API reports. */
export interface ApiState {
  mode: Mode;
  itemId?: string;
  flowId?: string;
  applicationRef?: string;
}

/** What a user sends: typed text or a button's postback. */
export type UserInput = { text: string } | { postback: string };

/** Runs conversations: sessions, transcript, the engine and its effects, one message at a time per conversation. */
export interface ConversationService {
  start(userId?: string): Promise<{ conversationId: string; messages: Message[] }>;
  send(conversationId: string, input: UserInput): Promise<{ messages: Message[]; state: ApiState }>;
  history(conversationId: string, after?: number): Promise<Message[]>;
  /** The application, masked, when the mobile matches; otherwise null. */
  findApplication(ref: string, mobile: string): Promise<PublicApplication | null>;
}

/** An application as shown outside: no raw personal numbers. */
export type PublicApplication = Omit<Application, 'answers' | 'mobile' | 'conversationId' | 'commitment'> & { mobile: string; commitment?: { accepted: boolean; dueBy?: string } };

interface Session {
  userId?: string;
  dialogue: DialogueState;
}

/** Hard cap on effect round trips per message, so a bad flow cannot loop. */
const MAX_EFFECT_ROUNDS = 4;

/** Creates the conversation service on given stores. */
export function createConversationService(deps: { kb: KnowledgeBase; classifier: Classifier; stores: Stores; logger: Logger; now?: () => Date; dense?: DenseIndex }): ConversationService {
  const { kb, classifier, stores, logger } = deps;
  const now = deps.now ?? (() => new Date());

  const toState = (d: DialogueState): ApiState => ({
    mode: d.mode,
    ...(d.itemId ? { itemId: d.itemId } : {}),
    ...(d.mode === 'flow' ? { flowId: d.flow.id } : {}),
    ...(d.applications.length ? { applicationRef: d.applications.at(-1) } : {}),
  });

  const stamp = (replies: Reply[], from: 'bot' | 'system' = 'bot') => replies.map((r) => ({ ...r, from, at: now().toISOString() }));

  async function run(ctx: DialogueContext, state: DialogueState, input: DialogueInput): Promise<DialogueResult> {
    let result = step(ctx, state, input);
    const replies = [...result.replies];
    for (let round = 0; round < MAX_EFFECT_ROUNDS && result.effects.length; round++) {
      const effects = result.effects;
      result = { ...result, effects: [] };
      for (const effect of effects) {
        let next: DialogueInput | null = null;
        if (effect.type === 'create-application') {
          const ref = await stores.applications.nextRef(isoDay(ctx.now).replace(/-/g, ''));
          const application: Application = { ref, ...effect.draft };
          await stores.applications.save(application);
          logger.info({ ref, flow: application.flowId, conversationId: ctx.conversationId }, 'application submitted');
          next = { kind: 'application-created', application };
        } else if (effect.type === 'lookup-application') {
          const app = await stores.applications.get(effect.ref);
          next = { kind: 'lookup-result', application: app && app.mobile === effect.mobile ? app : null };
        } else if (effect.type === 'handoff') {
          logger.info({ conversationId: ctx.conversationId, reason: effect.reason }, 'handoff requested');
        }
        if (next) {
          const r = step(ctx, result.state, next);
          replies.push(...r.replies);
          result = { replies: [], state: r.state, effects: [...result.effects, ...r.effects] };
        }
      }
    }
    return { ...result, replies };
  }

  async function load(id: string): Promise<Session> {
    const rec = await stores.sessions.get<Session>(id);
    if (!rec) throw new AppError('CONVERSATION_NOT_FOUND');
    return { ...rec.state, dialogue: migrate(rec.state.dialogue) };
  }

  const save = (id: string, session: Session) => stores.sessions.set(id, { schemaVersion: STATE_VERSION, state: session, updatedAt: now().toISOString() });

  return {
    async start(userId) {
      const conversationId = randomUUID();
      const ctx = { kb, classifier, now: now(), conversationId };
      const r = step(ctx, initialState(), { kind: 'start' });
      await save(conversationId, { userId, dialogue: r.state });
      const messages = await stores.transcripts.append(conversationId, stamp(r.replies));
      return { conversationId, messages };
    },

    async send(conversationId, input) {
      return stores.locks.withLock(conversationId, async () => {
        const session = await load(conversationId);
        const userText0 = 'text' in input ? input.text : '';
        // Dense retrieval is async, so it runs before the (pure, synchronous) engine and is handed in for this text only.
        const dense = deps.dense && userText0.trim() ? await deps.dense.query(userText0.slice(0, 400), 8).catch(() => undefined) : undefined;
        const withDense: Classifier = dense ? { ...classifier, classify: (t, th) => classifier.classify(t, th, t === userText0 ? dense : undefined) } : classifier;
        const ctx = { kb, classifier: withDense, now: now(), conversationId };
        const userText = 'text' in input ? input.text : input.postback;
        const dialogueInput: DialogueInput = 'text' in input ? { kind: 'text', text: input.text } : { kind: 'postback', payload: input.postback };
        const r = await run(ctx, session.dialogue, dialogueInput);
        // The user's message and the replies are stored together, after the state, so a retry never doubles them.
        await save(conversationId, { ...session, dialogue: r.state });
        const stored = await stores.transcripts.append(conversationId, [{ from: 'user', text: userText, at: ctx.now.toISOString() }, ...stamp(r.replies)]);
        return { messages: stored.slice(1), state: toState(r.state) };
      });
    },

    async history(conversationId, after = 0) {
      if (!(await stores.sessions.get(conversationId))) throw new AppError('CONVERSATION_NOT_FOUND');
      return stores.transcripts.list(conversationId, after);
    },

    async findApplication(ref, mobile) {
      const app = await stores.applications.get(ref.toUpperCase());
      if (!app || app.mobile !== mobile.trim()) return null;
      const { answers: _a, conversationId: _c, commitment, ...rest } = app;
      return { ...rest, mobile: maskValue(app.mobile, 3, 4), ...(commitment ? { commitment: { accepted: commitment.accepted, dueBy: commitment.dueBy } } : {}) };
    },
  };
}
