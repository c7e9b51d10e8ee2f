/** Queue order: urgent matters first, then complaints, then plain requests. */
export const PRIORITIES = ['urgent', 'complaint', 'asked'] as const;
/** How soon a handoff must be taken. */
export type Priority = (typeof PRIORITIES)[number];

/** Where a handoff is in its life. */
export type HandoffStatus = 'queued' | 'claimed' | 'closed' | 'cancelled' | 'callback';

/** A field holding a personal number that an agent may reveal (audited). */
export interface SecretField {
  /** Field name the reveal route takes (`application.mobile`, `callback.mobile`). */
  name: string;
  label: string;
  masked: string;
}

/** One conversation handed to a person. */
export interface Handoff {
  id: string;
  conversationId: string;
  channel: string;
  reason: string;
  priority: Priority;
  /** One paragraph for the agent: what the user asked, item or flow, answers so far, guides seen, application ref. */
  summary: string;
  status: HandoffStatus;
  createdAt: string;
  claimedAt?: string;
  /** Login of the agent who holds it. */
  agent?: string;
  closedAt?: string;
  resolution?: string;
  itemId?: string;
  flowId?: string;
  applicationRef?: string;
  /** Transfers between agents, oldest first. */
  transfers: { from: string; to: string; note: string; at: string }[];
  /** Handled by one agent, then returned to the queue (console gone): kept for the next agent. */
  returns: { agent: string; at: string }[];
  /** Fields the reveal route may show. */
  secrets: SecretField[];
  /** Raw values of `secrets`, never sent except through an audited reveal. */
  raw: Record<string, string>;
  /** Last queue position told to the user. */
  toldPosition?: number;
  /** The callback offer was sent (no agent, or waited too long). */
  callbackOffered?: boolean;
  /** The callback dialogue: asking the mobile, then the time slot. */
  callbackStage?: 'mobile' | 'slot';
  callbackMobile?: string;
  callbackTicket?: string;
  /** After close: waiting for the 1–5 rating, then an optional comment. */
  rating?: { score?: number; comment?: string; at?: string; stage: 'score' | 'comment' | 'done' };
}

/** An agent's availability. */
export type AgentState = 'online' | 'busy' | 'away';

/** What an agent may do in the console: `admin` also manages the back-office outbox (dead letters, replay). */
export type AgentRole = 'agent' | 'admin';

/** A 96510 agent who can log into the console. */
export interface Agent {
  login: string;
  name: string;
  /** scrypt hash: `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`. */
  passwordHash: string;
  state: AgentState;
  /** Records stored before roles existed (version 1) read as `agent`. */
  role: AgentRole;
  createdAt: string;
}

/** A server-side console session (the cookie carries only its id). */
export interface AgentSession {
  id: string;
  login: string;
  createdAt: string;
}

/** Callback ticket states. */
export const CALLBACK_STATUSES = ['open', 'called', 'resolved', 'unreachable'] as const;
/** Where a callback ticket is. */
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

/** A promise to call a resident back. */
export interface CallbackTicket {
  id: string;
  mobile: string;
  slot: string;
  status: CallbackStatus;
  createdAt: string;
  updatedAt: string;
  /** From a chat handoff, or created by an agent from a phone call. */
  handoffId?: string;
  conversationId?: string;
  createdBy?: string;
  note?: string;
  history: { status: CallbackStatus; agent?: string; at: string }[];
}

/** One reveal of a personal number: who, when, which field. */
export interface RevealAudit {
  handoffId: string;
  agent: string;
  field: string;
  at: string;
}

/**
 * Documents, sorted indexes, counters and lists of the handoff area, on one backend (memory, SQLite, Redis).
 * Keys are `<kind>` + `<id>`; Redis maps them to `<prefix>:<kind>:<id>`.
 */
export interface HandoffDb {
  get<T>(kind: string, id: string): Promise<T | null>;
  /** Several documents in one call where the backend allows (Redis MGET), in the order asked; null where absent. */
  getEach?<T>(refs: Array<[kind: string, id: string]>): Promise<Array<T | null>>;
  put(kind: string, id: string, doc: unknown, ttlSeconds?: number): Promise<void>;
  /** Writes only when absent; true when written. */
  putNew(kind: string, id: string, doc: unknown): Promise<boolean>;
  del(kind: string, id: string): Promise<void>;
  /** Adds or moves `id` in the sorted index `kind`. */
  index(kind: string, id: string, score: number): Promise<void>;
  unindex(kind: string, id: string): Promise<void>;
  /** Ids of index `kind` with score ≥ min, lowest score first. */
  range(kind: string, min?: number): Promise<string[]>;
  incr(kind: string, id: string, ttlSeconds?: number): Promise<number>;
  push(kind: string, id: string, doc: unknown): Promise<void>;
  list<T>(kind: string, id: string): Promise<T[]>;
  /** Runs `fn` alone for this key, across instances where the backend allows. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A handoff waiting or held, as the queue knows it. */
export interface QueueEntry {
  handoffId: string;
  priority: Priority;
  /** Agent holding it, or null when waiting. */
  agent: string | null;
}

/**
 * The waiting line. Memory: arrays with last-seen times. Redis: one Stream per priority with the consumer
 * group `agents`; waiting entries are pending under the consumer `waiting`, a claim moves the entry to
 * `agent:<login>` (XCLAIM), the console's heartbeat resets its idle time, and XPENDING finds claims idle past the grace.
 */
export interface HandoffQueue {
  add(handoffId: string, priority: Priority): Promise<void>;
  /** Moves the entry to the agent; the caller has checked exclusivity under the handoff's lock. */
  assign(handoffId: string, agent: string): Promise<void>;
  /** Back to waiting (claim lost or released). */
  unassign(handoffId: string): Promise<void>;
  /** Leaves the queue (closed, cancelled, callback). */
  remove(handoffId: string): Promise<void>;
  /** Resets the idle time of the agent's claims (its console is alive). */
  touch(agent: string, handoffIds: string[]): Promise<void>;
  /** Claims whose agent has not touched them for `idleMs`. */
  idleClaims(idleMs: number): Promise<QueueEntry[]>;
  /** Every entry, urgent first, then oldest. */
  entries(): Promise<QueueEntry[]>;
  close(): Promise<void>;
}
