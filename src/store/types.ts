import type { Application, Message, Reply, Sender } from '../core/index.js';
import type { FieldCipher } from '../privacy/index.js';

/** A stored session: the dialogue state plus its schema version, for migrations. */
export interface SessionRecord<S = unknown> {
  schemaVersion: number;
  state: S;
  updatedAt: string;
}

/** Keeps one dialogue state per conversation, with a time to live. */
export interface SessionStore {
  get<S>(conversationId: string): Promise<SessionRecord<S> | null>;
  set<S>(conversationId: string, record: SessionRecord<S>): Promise<void>;
  delete(conversationId: string): Promise<void>;
}

/** A message to append: the store assigns `seq`. */
export type NewMessage = Reply & { from: Sender; at: string };

/** The conversation transcript: ordered messages with gap-free sequence numbers from 1. */
export interface TranscriptStore {
  append(conversationId: string, messages: NewMessage[]): Promise<Message[]>;
  /** Messages with seq > after, in order; at most `limit` when given. */
  list(conversationId: string, after?: number, limit?: number): Promise<Message[]>;
  delete(conversationId: string): Promise<void>;
}

/** Submitted applications and their reference numbers. */
export interface ApplicationStore {
  /** Next reference for a day (YYYYMMDD): `WS<day>-<4+ digits>`, unique and increasing under concurrency and restarts. */
  nextRef(day: string): Promise<string>;
  /** Saves an application; when one with the same `runId` exists, keeps that one and returns it instead. */
  save(application: Application): Promise<Application>;
  get(ref: string): Promise<Application | null>;
  /** The application a flow run created, or null. */
  findByRun(runId: string): Promise<Application | null>;
  /** Sets the status of a stored application (back-office update); null when the ref is unknown. */
  updateStatus(ref: string, status: Application['status'], note?: string): Promise<Application | null>;
}

/** What an outbox entry hands to the utility's systems. */
export type OutboxKind = 'application' | 'callback' | 'handoff-outcome';

/** One entry to deliver to the back office; `id` is deterministic (e.g. `application:<runId>`), so adding it twice keeps the first. */
export interface OutboxEntry {
  id: string;
  kind: OutboxKind;
  /** JSON-serialisable payload (for applications: `{ref}`; the dispatcher reads the record at send time). */
  payload: Record<string, unknown>;
  createdAt: string;
}

/** An outbox entry with its delivery state. */
export interface OutboxRecord extends OutboxEntry {
  state: 'pending' | 'dead';
  attempts: number;
  /** Epoch ms when the entry is next due (pending) or when it died (dead). */
  dueAt: number;
  lastError?: string;
}

/** Entries waiting for delivery, leased to one dispatcher at a time, and a dead-letter list. */
export interface OutboxStore {
  /** Adds entries outside a turn commit; an existing id is kept. */
  add(entries: OutboxEntry[]): Promise<void>;
  /** Leases up to `limit` due pending entries to `owner` for `leaseMs` (they are due again when the lease runs out). */
  claim(owner: string, leaseMs: number, limit: number, now?: number): Promise<OutboxRecord[]>;
  /** Removes a delivered entry; false when `owner` no longer holds its lease. */
  delivered(id: string, owner: string): Promise<boolean>;
  /** Records a failed attempt: due again at `retryAt`, or dead when `retryAt` is null; false when the lease is lost. */
  failed(id: string, owner: string, error: string, retryAt: number | null, now?: number): Promise<boolean>;
  /** Dead entries, newest first. */
  dead(limit?: number): Promise<OutboxRecord[]>;
  /** Pending and dead entry counts (metrics, tests). */
  counts(): Promise<{ pending: number; dead: number }>;
  get(id: string): Promise<OutboxRecord | null>;
  /** A dead entry made pending again with zero attempts, due now; false when it is not dead. */
  replay(id: string, now?: number): Promise<boolean>;
}

/** One analytics event, written by turn middleware (never by the engine); `kind` 'turn' or 'rating'. */
export interface AnalyticsEvent {
  kind: 'turn' | 'rating';
  at: string;
  /** YYYY-MM-DD in the service's time zone. */
  day: string;
  conversationId: string;
  channel: string;
  /** The rest of the event (see src/analytics/events.ts), JSON. */
  data: Record<string, unknown>;
}

/** Append-only analytics events: a table on SQLite and memory, a capped Stream in Redis. */
export interface EventStore {
  append(events: AnalyticsEvent[]): Promise<void>;
  /** Events with `from <= at < to` (ISO times), oldest first, at most `limit` (default 100 000). */
  list(range?: { from?: string; to?: string; limit?: number }): Promise<AnalyticsEvent[]>;
}

/** Runs work for one key at a time, across processes where the backend allows. */
export interface LockManager {
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Counts failed attempts per key (an application lookup per reference number) and locks the key out after too many. */
export interface AttemptLimiter {
  /** True while the key is locked out. */
  blocked(key: string): Promise<boolean>;
  /** Records one failure; the failure that reaches the maximum starts the lockout. */
  fail(key: string): Promise<void>;
  /** Forgets the failures (after a success). */
  reset(key: string): Promise<void>;
}

/** Everything one turn writes, committed as one unit (MULTI/EXEC or a Lua script in Redis, a transaction in SQLite). */
export interface TurnCommit {
  conversationId: string;
  session: SessionRecord;
  /** The user's message first, then the replies; the store assigns `seq`. */
  messages: NewMessage[];
  /** Applications created in this turn (idempotent per `runId`). */
  applications: Application[];
  /** The client's message id: the stored messages are kept under it, so a retry gets them back and writes nothing. */
  clientMessageId?: string;
  /** Entries for the back office, written in the same unit (an id already present is kept). */
  outbox?: OutboxEntry[];
  /** Analytics events of the turn: written in the same unit on SQLite and memory, right after it on Redis; not at all for a repeated clientMessageId. */
  events?: AnalyticsEvent[];
}

/** The points of a commit a fault can hit. */
export type CommitPoint = 'applications' | 'session' | 'transcript' | 'turn' | 'committed';

/** What a purge removed. */
export interface PurgeReport {
  sessions: number;
  transcripts: number;
  applications: number;
}

/** How many records a backend holds (diagnostics and tests; Redis counts by SCAN). */
export interface StoreSize {
  sessions: number;
  transcripts: number;
  applications: number;
}

/** All stores of one backend. */
export interface Stores {
  readonly backend: 'memory' | 'redis' | 'sqlite';
  sessions: SessionStore;
  transcripts: TranscriptStore;
  applications: ApplicationStore;
  locks: LockManager;
  /** Failed application lookups per reference number. */
  attempts: AttemptLimiter;
  /** Entries for the utility's back office (written by commitTurn or `add`). */
  outbox: OutboxStore;
  /** Analytics events. */
  events: EventStore;
  /**
   * Commits a turn as one unit and returns the stored messages. With a `clientMessageId` already committed,
   * writes nothing and returns the messages stored then.
   */
  commitTurn(commit: TurnCommit): Promise<Message[]>;
  /** The messages a turn with this client message id stored, or null when there was none. */
  findTurn(conversationId: string, clientMessageId: string): Promise<Message[] | null>;
  /** Removes what is past its TTL or retention at `now` (Redis expires keys itself and reports zeros). */
  purge(now?: Date): Promise<PurgeReport>;
  /** Counts stored records. */
  size(): Promise<StoreSize>;
  /** An ioredis-shaped command runner for @fastify/rate-limit's Redis store, in Redis mode. */
  readonly rateLimitRedis?: unknown;
  /** Throws when the backend does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Options shared by every backend. */
export interface StoreOptions {
  /** Key prefix, so tests and deployments do not collide. */
  prefix?: string;
  /** Seconds a session lives after the last message. */
  ttlSeconds?: number;
  /** Seconds a transcript lives after its last message (TRANSCRIPT_RETENTION_DAYS); default `ttlSeconds`. */
  transcriptTtlSeconds?: number;
  /** Days an application is kept after submission (APPLICATION_RETENTION_DAYS); default 365. */
  applicationRetentionDays?: number;
  /** Longest wait for a conversation lock, in ms. */
  lockTimeoutMs?: number;
  /** Lock lease: a dead holder blocks its key at most this long (Redis). */
  lockLeaseMs?: number;
  /** How often expired entries are swept, in ms (memory, SQLite); 0 turns the sweeper off. */
  sweepIntervalMs?: number;
  /** Encrypts personal fields of applications and whole session states at rest. */
  cipher?: FieldCipher;
  /** Memory backend: most conversations kept; the least recently written are evicted beyond it (MEMORY_MAX_CONVERSATIONS). */
  maxConversations?: number;
  /** Test seam: called before each write of a commit and once after it ('committed'); throwing there simulates a crash at that point. */
  faultHook?: (point: CommitPoint) => void;
  /** Failed lookups before a lockout, and its length. */
  attempts?: { max?: number; lockMs?: number };
  /** Most analytics events kept (Redis Stream MAXLEN ~, memory cap); default 1 000 000. */
  maxEvents?: number;
}
