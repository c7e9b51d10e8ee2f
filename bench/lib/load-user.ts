/**
 * One virtual user of bench:load, over the widget's REST API: plays a conversation from the corpus, each request
 * on the next instance in turn, every message with a clientMessageId; a conversation that reaches the queue is
 * carried to its end with the simulated agents (greeting, one question, the agent's answer, the rating) or, when
 * no agent takes it in time, through the callback ticket.
 */
import { randomUUID } from 'node:crypto';
import type { Message, QuickReply } from '../../src/core/index.js';
import type { ConversationLog, SentMessage } from './audit.js';
import type { Conversation } from './corpus.js';
import { payloadOf } from './driver.js';
import type { LatencyHistogram } from './histogram.js';
import type { ClusterHttp } from './cluster-http.js';

type Reply = Pick<Message, 'seq' | 'from' | 'text'> & { quickReplies?: QuickReply[] };

/** Everything the users share: where to send, what to record. */
export interface LoadContext {
  http: ClusterHttp;
  /** Message latencies of answers that arrived before the deadline. */
  latencies: LatencyHistogram;
  /** Statuses of the message and start requests that were not 2xx, counted. */
  statuses: Map<number, number>;
  logs: Array<ConversationLog & { token: string }>;
  /** Conversations by kind, and handoff outcomes. */
  counts: Record<string, number>;
  /** When the measured window ends (performance.now()); messages answered later are not counted in the rate. */
  deadline: number;
  /** How long a queued user waits for an agent before taking a callback ticket, in ms. */
  agentWaitMs: number;
  /** What a user types when asking for a callback: the button title, a mobile and a time slot title. */
  callback: { button: string; mobile: () => string; slot: string };
  /** A question the user asks the agent. */
  question: () => string;
  /** The system message asking for the rating once the agent closed (its last button, the best score, is clicked). */
  closedText: string;
}

const bump = (ctx: LoadContext, key: string) => (ctx.counts[key] = (ctx.counts[key] ?? 0) + 1);

/** A conversation being played: its log, its token and the last replies seen. */
class Session {
  last: Reply[] = [];
  lastSeq = 0;
  mode = 'bot';
  constructor(
    readonly ctx: LoadContext,
    readonly log: ConversationLog & { token: string },
  ) {}

  /** Sends one message; its answer replaces `last`. False when the server refused it. */
  async send(input: { text: string } | { postback: string }): Promise<boolean> {
    const clientMessageId = randomUUID();
    const sent: SentMessage = { clientMessageId, text: 'text' in input ? input.text : input.postback, replies: [], accepted: false };
    this.log.sent.push(sent);
    const r = await this.ctx.http.call('POST', `/api/v1/conversations/${this.log.id}/messages`, { ...input, clientMessageId }, { authorization: `Bearer ${this.log.token}` });
    if (r.status !== 200) {
      this.ctx.statuses.set(r.status, (this.ctx.statuses.get(r.status) ?? 0) + 1);
      return false;
    }
    if (performance.now() <= this.ctx.deadline) this.ctx.latencies.record(r.ms);
    sent.accepted = true;
    const body = r.body as { messages: Reply[]; state: { mode: string } };
    sent.replies = body.messages.map(({ seq, from, text }) => ({ seq, from, text }));
    this.last = body.messages;
    this.mode = body.state.mode;
    this.lastSeq = Math.max(this.lastSeq, ...body.messages.map((m) => m.seq));
    return true;
  }

  /** Long-polls the transcript (on either instance) until a message after the last one seen satisfies `pred`. */
  async waitFor(pred: (m: Reply) => boolean, ms: number): Promise<Reply | undefined> {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      const wait = Math.max(1, Math.min(5, Math.ceil((until - performance.now()) / 1000)));
      const r = await this.ctx.http.call('GET', `/api/v1/conversations/${this.log.id}/messages?after=${this.lastSeq}&wait=${wait}`, undefined, { authorization: `Bearer ${this.log.token}` });
      if (r.status !== 200) return undefined;
      const fresh = (r.body as { messages: Reply[] }).messages;
      for (const m of fresh) {
        this.lastSeq = Math.max(this.lastSeq, m.seq);
        if (pred(m)) return m;
      }
    }
    return undefined;
  }
}

/** Plays one conversation; stops sending at the deadline, except that a handoff under way is carried to its end. */
export async function playConversation(ctx: LoadContext, conversation: Conversation): Promise<void> {
  const r = await ctx.http.call('POST', '/api/v1/conversations', conversation.lang ? { lang: conversation.lang } : {});
  if (r.status !== 201) return void ctx.statuses.set(r.status, (ctx.statuses.get(r.status) ?? 0) + 1);
  const { conversationId, token, messages } = r.body as { conversationId: string; token: string; messages: Reply[] };
  const log = { id: conversationId, token, kind: conversation.kind, sent: [], opening: messages.map(({ seq, from, text }) => ({ seq, from, text })) };
  ctx.logs.push(log);
  bump(ctx, conversation.kind);
  const s = new Session(ctx, log);
  s.last = messages;
  s.lastSeq = Math.max(0, ...messages.map((m) => m.seq));
  for (const step of conversation.steps) {
    if (performance.now() > ctx.deadline) return;
    const input = payloadOf(step, s.last, (n) => Math.floor(Math.random() * n));
    if (input === 'skip') continue;
    // A required button the bot did not offer: the script and the bot disagree, the conversation ends here.
    if (input === null) return void bump(ctx, 'divergences');
    if (!(await s.send(input))) return;
    if (s.mode === 'handoff') return handoff(s);
  }
}

/** The user's side of a handoff: wait for the agent, ask, get the answer, rate; or leave a callback ticket. */
async function handoff(s: Session): Promise<void> {
  const { ctx } = s;
  bump(ctx, 'handoff:queued');
  const offered = s.last.some((m) => m.quickReplies?.some((q) => q.title === ctx.callback.button));
  const greeting = offered ? undefined : await s.waitFor((m) => m.from === 'agent', ctx.agentWaitMs);
  if (greeting) {
    if (!(await s.send({ text: ctx.question() }))) return;
    return rate(s, 'handoff:agent');
  }
  // No agent in time: the callback ticket, unless an agent takes the conversation meanwhile (the bot goes silent).
  for (const text of [ctx.callback.button, ctx.callback.mobile(), ctx.callback.slot]) {
    if (!(await s.send({ text }))) return;
    if (!s.last.length) return rate(s, 'handoff:agent-late');
  }
  bump(ctx, s.mode === 'handoff' ? 'handoff:callback-unfinished' : 'handoff:callback');
}

/** Waits for the agent to close (the rating prompt), then clicks the best score. */
async function rate(s: Session, outcome: string): Promise<void> {
  const prompt = await s.waitFor((m) => m.from === 'system' && m.text === s.ctx.closedText, 30_000);
  const postback = prompt?.quickReplies?.at(-1)?.postback;
  if (!postback) return void bump(s.ctx, 'handoff:not-closed');
  bump(s.ctx, outcome);
  await s.send({ postback });
}
