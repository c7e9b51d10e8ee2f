import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AppError, maskValue, type Logger, type Message, type Reply } from '../core/index.js';
import { isoDay } from '../dialogue/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Stores } from '../store/index.js';
import { AgentDirectory } from './agents.js';
import { CallbackBook } from './callbacks.js';
import { buildDashboard, type Dashboard } from './dashboard.js';
import type { PacketParts } from './packet.js';
import { fill, type HandoffTexts } from './texts.js';
import { type CallbackStatus, type CallbackTicket, type Handoff, type HandoffDb, type HandoffQueue, type Priority, type RevealAudit } from './types.js';

/** Messages the handoff posts to a conversation (agent and system lines): ConversationService.post. */
export type Poster = (conversationId: string, messages: Array<Reply & { from: 'agent' | 'system' }>) => Promise<Message[]>;

/** Timing of the handoff. */
export interface HandoffSettings {
  /** Longest wait before the callback offer, in seconds. */
  maxWaitS: number;
  /** How long a claim survives its console being gone, in seconds. */
  claimGraceS: number;
  /** Average handling time per conversation, for the estimated wait, in seconds. */
  avgHandleS: number;
  /** Console session lifetime, in seconds. */
  sessionTtlS: number;
}

/** What the handoff service is built from. */
export interface HandoffServiceDeps {
  /** One database per concern (they may be the same one). */
  dbs: { handoffs: HandoffDb; agents: HandoffDb; callbacks: HandoffDb };
  queue: HandoffQueue;
  kb: KnowledgeBase;
  texts: HandoffTexts;
  stores: Stores;
  logger: Logger;
  settings: HandoffSettings;
  now?: () => Date;
}

/** What a new handoff is made of: where and why, and the packet (packet.ts). */
export interface HandoffRequest extends PacketParts {
  conversationId: string;
  channel: string;
  reason: string;
  priority: Priority;
}

/** A queued handoff as the console lists it. */
export interface QueueItem {
  id: string;
  conversationId: string;
  channel: string;
  reason: string;
  reasonLabel: string;
  priority: Priority;
  summary: string;
  status: Handoff['status'];
  agent?: string;
  waitingS: number;
  position?: number;
}

const MINUTE = 60;
const TRANSCRIPT_TAIL = 20;

/** Drops the raw personal numbers before a handoff leaves the service. */
export function publicHandoff(h: Handoff): Omit<Handoff, 'raw'> {
  const { raw: _raw, callbackMobile, ...rest } = h;
  return { ...rest, ...(callbackMobile ? { callbackMobile: maskValue(callbackMobile, 3, 4) } : {}) };
}

/**
 * Handoffs from request to rating: the queue, exclusive claims, agent messages, transfer, close,
 * audited reveals, callback tickets, the dashboard. Emits `changed` whenever the queue or a handoff changes.
 */
export class HandoffService extends EventEmitter {
  readonly agents: AgentDirectory;
  private post: Poster = async () => [];
  private readonly now: () => Date;
  private readonly db: HandoffDb;
  private readonly book: CallbackBook;

  constructor(private readonly deps: HandoffServiceDeps) {
    super();
    this.now = deps.now ?? (() => new Date());
    this.db = deps.dbs.handoffs;
    this.book = new CallbackBook(deps.dbs.callbacks, deps.logger, this.now, () => this.changed());
    this.agents = new AgentDirectory(deps.dbs.agents, deps.settings.sessionTtlS, this.now);
  }

  /** Gives the service the conversation service's post (built after the handoff, which its pipeline uses). */
  attach(post: Poster): void {
    this.post = post;
  }

  get texts(): HandoffTexts {
    return this.deps.texts;
  }

  get settings(): HandoffSettings {
    return this.deps.settings;
  }

  /** Refills a queue that lives in memory from the stored open handoffs (embedded mode after a restart). */
  async restore(): Promise<void> {
    for (const id of await this.db.range('handoffs-open')) {
      const h = await this.get(id);
      if (!h || (h.status !== 'queued' && h.status !== 'claimed')) continue;
      await this.deps.queue.add(h.id, h.priority);
      if (h.agent) await this.deps.queue.assign(h.id, h.agent);
    }
  }

  async get(id: string): Promise<Handoff | null> {
    if (!/^[\w-]{1,64}$/.test(id)) return null;
    const h = await this.db.get<Handoff>('handoff', id);
    return h ? { ...h, transfers: h.transfers ?? [], returns: h.returns ?? [], secrets: h.secrets ?? [], raw: h.raw ?? {} } : null;
  }

  /** The open (queued or claimed) handoff of a conversation. */
  async activeFor(conversationId: string): Promise<Handoff | null> {
    return this.openOf(await this.db.get<string>('handoff-active', conversationId));
  }

  /** The closed handoff of a conversation that still waits for its rating or comment. */
  async ratingFor(conversationId: string): Promise<Handoff | null> {
    return this.unratedOf(await this.db.get<string>('handoff-rating', conversationId));
  }

  /** activeFor and ratingFor together, both pointers read in one call where the backend allows (every bot turn asks). */
  async holdsFor(conversationId: string): Promise<{ active: Handoff | null; rating: Handoff | null }> {
    if (!this.db.getEach) return { active: await this.activeFor(conversationId), rating: await this.ratingFor(conversationId) };
    const [activeId, ratingId] = await this.db.getEach<string>([['handoff-active', conversationId], ['handoff-rating', conversationId]]);
    const active = await this.openOf(activeId ?? null);
    return { active, rating: active ? null : await this.unratedOf(ratingId ?? null) };
  }

  private async openOf(id: string | null): Promise<Handoff | null> {
    const h = id ? await this.get(id) : null;
    return h && (h.status === 'queued' || h.status === 'claimed') ? h : null;
  }

  private async unratedOf(id: string | null): Promise<Handoff | null> {
    const h = id ? await this.get(id) : null;
    return h?.rating && h.rating.stage !== 'done' ? h : null;
  }

  /** Changes a handoff under its lock. */
  async mutate(id: string, fn: (h: Handoff) => Handoff | Promise<Handoff>): Promise<Handoff> {
    return this.db.withLock(`handoff:${id}`, async () => {
      const h = await this.get(id);
      if (!h) throw new AppError('HANDOFF_NOT_FOUND');
      const next = await fn(h);
      // A callback that returns the handoff it was given changed nothing (callbacks never edit it in place): no write.
      if (next !== h) await this.db.put('handoff', id, next);
      return next;
    });
  }

  /** Queues a conversation for a person; a conversation already queued keeps its place. */
  async enqueue(req: HandoffRequest): Promise<Handoff> {
    const open = await this.activeFor(req.conversationId);
    if (open) return open;
    const at = this.now();
    const h: Handoff = { id: `h-${randomUUID()}`, ...req, status: 'queued', createdAt: at.toISOString(), transfers: [], returns: [] };
    await this.db.put('handoff', h.id, h);
    await this.db.put('handoff-active', req.conversationId, h.id);
    await this.db.index('handoffs', h.id, at.getTime());
    // Joining order, exact even within one millisecond: the queue is rebuilt in it after a restart (embedded mode).
    await this.db.index('handoffs-open', h.id, await this.db.incr('handoff-seq', 'all'));
    await this.deps.queue.add(h.id, h.priority);
    this.deps.logger.info({ handoffId: h.id, conversationId: h.conversationId, reason: h.reason, priority: h.priority }, 'handoff queued');
    this.changed();
    return h;
  }

  /** Remembers a guide the bot answered in a conversation, for the packet's "guides already seen". */
  async noteSeen(conversationId: string, itemId: string): Promise<void> {
    const seen = (await this.db.get<string[]>('handoff-seen', conversationId)) ?? [];
    if (!seen.includes(itemId)) await this.db.put('handoff-seen', conversationId, [...seen, itemId].slice(-20), 7 * 86_400);
  }

  /** The guides the bot answered in a conversation, oldest first. */
  async seenItems(conversationId: string): Promise<string[]> {
    return (await this.db.get<string[]>('handoff-seen', conversationId)) ?? [];
  }

  /** Waiting handoffs in the order they are offered (urgent first, then oldest), then the claimed ones. */
  async queue(): Promise<QueueItem[]> {
    const t = this.now().getTime();
    const out: QueueItem[] = [];
    let position = 0;
    for (const e of await this.deps.queue.entries()) {
      const h = await this.get(e.handoffId);
      if (!h || (h.status !== 'queued' && h.status !== 'claimed')) continue;
      out.push({
        id: h.id, conversationId: h.conversationId, channel: h.channel, reason: h.reason, reasonLabel: this.reasonLabel(h.reason), priority: h.priority,
        summary: h.summary, status: h.status, ...(h.agent ? { agent: h.agent } : {}), waitingS: Math.round((t - Date.parse(h.createdAt)) / 1000),
        ...(h.status === 'queued' ? { position: ++position } : {}),
      });
    }
    return out;
  }

  reasonLabel(reason: string): string {
    return this.deps.texts.reasons[reason] ?? reason;
  }

  /** Place in line (people ahead) and the estimated wait in minutes. */
  async position(id: string): Promise<{ ahead: number; minutes: number }> {
    // Only the handoffs offered before this one are read (not the whole queue, on every turn of a waiting user).
    let ahead = 0;
    let found = false;
    for (const e of await this.deps.queue.entries()) {
      if (e.handoffId === id) {
        found = (await this.get(id))?.status === 'queued';
        break;
      }
      if ((await this.get(e.handoffId))?.status === 'queued') ahead++;
    }
    if (!found) ahead = 0;
    return { ahead, minutes: this.waitMinutes(ahead, await this.agentsFree()) };
  }

  /** The estimated wait of a user with `ahead` people before them, `agents` free agents (at least one counted). */
  private waitMinutes(ahead: number, agents: number): number {
    return Math.max(1, Math.ceil(((ahead + 1) * this.deps.settings.avgHandleS) / agents / MINUTE));
  }

  private async agentsFree(): Promise<number> {
    return Math.max(1, (await this.agents.available()).length);
  }

  /** Takes a handoff for an agent; exactly one of two agents claiming at once wins, the other gets HANDOFF_TAKEN. */
  async claim(id: string, login: string): Promise<Handoff> {
    const agent = await this.agents.get(login);
    if (!agent) throw new AppError('AGENT_NOT_FOUND');
    let fresh = false;
    const h = await this.mutate(id, async (h) => {
      if (h.status === 'claimed' && h.agent === login) return h;
      if (h.status === 'claimed') throw new AppError('HANDOFF_TAKEN');
      if (h.status !== 'queued') throw new AppError('HANDOFF_CLOSED');
      await this.deps.queue.assign(id, login);
      fresh = true;
      return { ...h, status: 'claimed', agent: login, claimedAt: h.claimedAt ?? this.now().toISOString() };
    });
    if (fresh) {
      this.deps.logger.info({ handoffId: id, agent: login }, 'handoff claimed');
      await this.system(h.conversationId, fill(this.deps.texts.texts.claimed, { agent: agent.name }));
      this.changed();
    }
    return h;
  }

  /** The handoff, when this agent holds it: 404 unknown, 403 someone else's or nobody's. */
  async held(id: string, login: string): Promise<Handoff> {
    const h = await this.get(id);
    if (!h) throw new AppError('HANDOFF_NOT_FOUND');
    if (h.status !== 'claimed' || h.agent !== login) throw new AppError('HANDOFF_NOT_YOURS');
    return h;
  }

  /** The handoff packet: the record without raw numbers, the waiting time and the last 20 messages. */
  async packet(h: Handoff): Promise<{ handoff: Omit<Handoff, 'raw'>; reasonLabel: string; waitingS: number; messages: Message[]; audit: RevealAudit[] }> {
    const messages = (await this.deps.stores.transcripts.list(h.conversationId)).slice(-TRANSCRIPT_TAIL);
    const end = h.claimedAt ? Date.parse(h.claimedAt) : this.now().getTime();
    const audit = await this.db.list<RevealAudit>('handoff-audit', h.id);
    return { handoff: publicHandoff(h), reasonLabel: this.reasonLabel(h.reason), waitingS: Math.round((end - Date.parse(h.createdAt)) / 1000), messages, audit };
  }

  /** An agent's message to the user, on the user's channel, signed "人工客服 <name>". */
  async say(id: string, login: string, text: string): Promise<Message[]> {
    const h = await this.held(id, login);
    const agent = await this.agents.get(login);
    await this.deps.queue.touch(login, [id]);
    return this.post(h.conversationId, [{ from: 'agent', text, author: `人工客服 ${agent?.name ?? login}` }]);
  }

  /** Hands a held conversation to another agent with a note. */
  async transfer(id: string, login: string, to: string, note: string): Promise<Handoff> {
    const target = await this.agents.get(to);
    if (!target) throw new AppError('AGENT_NOT_FOUND');
    if (to === login) throw new AppError('BAD_REQUEST', '不能转给自己');
    const h = await this.mutate(id, async (h) => {
      if (h.status !== 'claimed' || h.agent !== login) throw new AppError('HANDOFF_NOT_YOURS');
      await this.deps.queue.assign(id, to);
      return { ...h, agent: to, transfers: [...h.transfers, { from: login, to, note, at: this.now().toISOString() }] };
    });
    this.deps.logger.info({ handoffId: id, from: login, to }, 'handoff transferred');
    await this.system(h.conversationId, fill(this.deps.texts.texts.transferred, { agent: target.name }));
    this.changed();
    return h;
  }

  /** Closes with a resolution code; the bot returns and asks the user for a rating. */
  async close(id: string, login: string, resolution: string): Promise<Handoff> {
    if (!this.deps.texts.resolutions.some((r) => r.code === resolution)) throw new AppError('BAD_REQUEST', `未知的处理结果：${resolution}`);
    const h = await this.mutate(id, async (h) => {
      if (h.status !== 'claimed' || h.agent !== login) throw new AppError('HANDOFF_NOT_YOURS');
      return { ...h, status: 'closed', resolution, closedAt: this.now().toISOString(), rating: { stage: 'score' } };
    });
    await this.finish(h);
    await this.db.put('handoff-rating', h.conversationId, h.id);
    this.deps.logger.info({ handoffId: id, agent: login, resolution }, 'handoff closed');
    const t = this.deps.texts.texts;
    await this.notify(h.conversationId, [{ from: 'system', text: t.closed, quickReplies: [1, 2, 3, 4, 5].map((n) => ({ title: `${n} 分`, postback: `rate:${n}` })) }]);
    this.changed();
    return h;
  }

  /** Leaves the queue (the user cancelled, or took a callback ticket); runs inside the user's turn. */
  async leave(id: string, status: 'cancelled' | 'callback', patch: Partial<Handoff> = {}): Promise<Handoff> {
    const h = await this.mutate(id, (h) => ({ ...h, ...patch, status, closedAt: this.now().toISOString() }));
    await this.finish(h);
    this.deps.logger.info({ handoffId: id, status }, 'handoff left the queue');
    this.changed();
    return h;
  }

  private async finish(h: Handoff): Promise<void> {
    await this.deps.queue.remove(h.id);
    await this.db.unindex('handoffs-open', h.id);
    if ((await this.db.get<string>('handoff-active', h.conversationId)) === h.id) await this.db.del('handoff-active', h.conversationId);
  }

  /** Stores the rating against the handoff and its item. */
  async rate(id: string, patch: { score?: number; comment?: string; done: boolean }): Promise<Handoff> {
    const h = await this.mutate(id, (h) => ({
      ...h,
      rating: { ...h.rating, ...(patch.score ? { score: patch.score } : {}), ...(patch.comment ? { comment: patch.comment } : {}), at: this.now().toISOString(), stage: patch.done ? 'done' : 'comment' },
    }));
    if (patch.done) {
      await this.db.del('handoff-rating', h.conversationId);
      if (h.rating?.score) await this.db.push('ratings', h.itemId ?? 'none', { handoffId: h.id, score: h.rating.score, comment: h.rating.comment, at: h.rating.at });
    }
    return h;
  }

  /** Ratings given for a service item (`none`: handoffs outside any item). */
  ratingsOf(itemId: string): Promise<{ handoffId: string; score: number; comment?: string; at: string }[]> {
    return this.db.list('ratings', itemId);
  }

  /** Shows one personal number to the agent holding the handoff, and writes the reveal to the audit log. */
  async reveal(id: string, login: string, field: string): Promise<{ field: string; value: string; audit: RevealAudit }> {
    const h = await this.held(id, login);
    const value = h.raw[field];
    if (value === undefined) throw new AppError('BAD_REQUEST', `没有可查看的字段：${field}`);
    const audit: RevealAudit = { handoffId: id, agent: login, field, at: this.now().toISOString() };
    await this.db.push('handoff-audit', id, audit);
    await this.db.push('reveal-audit', 'all', audit);
    this.deps.logger.info({ handoffId: id, agent: login, field }, 'personal number revealed');
    return { field, value, audit };
  }

  /** The reveal audit of one handoff. */
  auditOf(id: string): Promise<RevealAudit[]> {
    return this.db.list('handoff-audit', id);
  }

  /** The agent's console is alive: presence, and the idle time of every claim it holds reset. */
  async heartbeat(login: string): Promise<void> {
    await this.agents.touch(login);
    const held = (await this.deps.queue.entries()).filter((e) => e.agent === login).map((e) => e.handoffId);
    if (held.length) await this.deps.queue.touch(login, held);
  }

  /** Claims whose console was gone past the grace go back to the queue; long waits get the callback offer. */
  async sweep(): Promise<void> {
    const graceMs = this.deps.settings.claimGraceS * 1000;
    for (const e of await this.deps.queue.idleClaims(graceMs)) {
      const agent = e.agent!;
      let returned = false;
      const h = await this.mutate(e.handoffId, async (h) => {
        if (h.status !== 'claimed' || h.agent !== agent) return h;
        await this.deps.queue.unassign(h.id);
        returned = true;
        const { agent: _a, ...rest } = h;
        return { ...rest, status: 'queued', returns: [...h.returns, { agent, at: this.now().toISOString() }] };
      }).catch(() => null);
      if (h && returned) {
        this.deps.logger.warn({ handoffId: h.id, agent }, 'claim returned to the queue: console gone past the grace period');
        await this.system(h.conversationId, this.deps.texts.texts.returned);
        this.changed();
      }
    }
    for (const q of await this.queue()) {
      if (q.status === 'queued' && !(await this.deps.stores.sessions.get(q.conversationId))) {
        // The conversation expired while waiting: nobody is left to answer.
        await this.leave(q.id, 'cancelled');
        continue;
      }
      if (q.status !== 'queued' || q.waitingS < this.deps.settings.maxWaitS) continue;
      // Decided under the handoff's lock, so two instances sweeping at once send one offer.
      let first = false;
      const h = await this.mutate(q.id, (x) => {
        first = !x.callbackOffered && x.status === 'queued';
        return { ...x, callbackOffered: true };
      });
      if (first) await this.offerCallback(h.conversationId, this.deps.texts.texts.waitedTooLong);
    }
    await this.tellPositions();
  }

  /** Sends the callback offer with its buttons. */
  async offerCallback(conversationId: string, text: string): Promise<void> {
    const b = this.deps.texts.buttons;
    await this.notify(conversationId, [{ from: 'system', text: fill(text, this.vars()), quickReplies: [{ title: b.callback, postback: 'handoff:callback' }, { title: b.wait, postback: 'handoff:wait' }, { title: b.cancel, postback: 'handoff:cancel' }] }]);
  }

  /** Tells each waiting user whose place changed their new place and estimated wait. */
  async tellPositions(): Promise<void> {
    const waiting = (await this.queue()).filter((q) => q.status === 'queued');
    // One pass: the queue already numbers the waiting (asking each one's place again made a long queue quadratic).
    const agents = waiting.length ? await this.agentsFree() : 1;
    for (const q of waiting) {
      const ahead = (q.position ?? 1) - 1;
      let changed = false;
      const h = await this.mutate(q.id, (x) => {
        changed = x.status === 'queued' && x.toldPosition !== undefined && x.toldPosition !== ahead;
        return changed ? { ...x, toldPosition: ahead } : x;
      }).catch(() => null);
      if (!h || !changed) continue;
      await this.system(h.conversationId, fill(this.deps.texts.texts.position, { ahead, minutes: this.waitMinutes(ahead, agents) }));
    }
  }

  /** Records the position told at joining (the turn tells it, inside its own commit). */
  async told(id: string, ahead: number): Promise<void> {
    await this.mutate(id, (h) => ({ ...h, toldPosition: ahead }));
  }

  /** `{hotline}`, `{hours}` and the like for the texts. */
  vars(): Record<string, string> {
    return { hotline: this.deps.kb.utility.hotline, hours: this.deps.kb.utility.hotlineHours ?? '' };
  }

  private system(conversationId: string, text: string): Promise<void> {
    return this.notify(conversationId, [{ from: 'system', text }]);
  }

  /** Posts a notice; a conversation that is gone (expired) or a store that fails is logged, never thrown into the caller. */
  private async notify(conversationId: string, messages: Parameters<Poster>[1]): Promise<void> {
    try {
      await this.post(conversationId, messages);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, conversationId }, 'handoff notice not delivered');
    }
  }

  /** Creates a callback ticket (from a chat, or by an agent from a phone call). */
  createCallback(input: Parameters<CallbackBook['create']>[0]): Promise<CallbackTicket> {
    return this.book.create(input);
  }

  /** Callback tickets, newest first, mobile masked. */
  callbacks(): ReturnType<CallbackBook['list']> {
    return this.book.list();
  }

  /** Sets a callback ticket's status (called, resolved, not reachable). */
  setCallbackStatus(id: string, status: CallbackStatus, login: string, note?: string): Promise<CallbackTicket> {
    return this.book.setStatus(id, status, login, note);
  }

  /** Today's figures: handoffs by reason and priority, average and p90 wait, CSAT, callback backlog, agents online. */
  async dashboard(): Promise<Dashboard> {
    const start = Date.parse(`${isoDay(this.now())}T00:00:00+08:00`);
    const today = (await Promise.all((await this.db.range('handoffs', start)).map((id) => this.get(id)))).filter((h): h is Handoff => h !== null);
    return buildDashboard({
      day: isoDay(this.now()),
      today,
      callbacks: await this.callbacks(),
      agentsOnline: (await this.agents.available()).length,
      waiting: (await this.queue()).filter((q) => q.status === 'queued').length,
    });
  }

  private changed(): void {
    this.emit('changed');
  }
}
