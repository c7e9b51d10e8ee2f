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
}
