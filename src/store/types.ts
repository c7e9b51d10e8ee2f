import type { Application, Message, Reply, Sender } from '../core/index.js';

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
  /** Messages with seq > after, in order. */
  list(conversationId: string, after?: number): Promise<Message[]>;
  delete(conversationId: string): Promise<void>;
}

/** Submitted applications and their reference numbers. */
export interface ApplicationStore {
  /** Next reference for a day (YYYYMMDD): `WS<day>-<4+ digits>`, unique and increasing under concurrency. */
  nextRef(day: string): Promise<string>;
  save(application: Application): Promise<void>;
  get(ref: string): Promise<Application | null>;
}

/** Runs work for one key at a time, across processes where the backend allows. */
export interface LockManager {
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Everything one turn writes, committed as one unit (MULTI/EXEC or a Lua script in Redis, a transaction in SQLite). */
export interface TurnCommit {
  conversationId: string;
  session: SessionRecord;
  /** The user's message first, then the replies; the store assigns `seq`. */
  messages: NewMessage[];
  /** Applications created in this turn. */
  applications: Application[];
  /** The client's message id: the stored messages are kept under it, so a retry gets them back and writes nothing. */
  clientMessageId?: string;
}

/** All stores of one backend. */
export interface Stores {
  readonly backend: 'memory' | 'redis' | 'sqlite';
  sessions: SessionStore;
  transcripts: TranscriptStore;
  applications: ApplicationStore;
  locks: LockManager;
  /** Commits a turn as one unit and returns the stored messages. */
  commitTurn(commit: TurnCommit): Promise<Message[]>;
  /** The messages a turn with this client message id stored, or null when there was none. */
  findTurn(conversationId: string, clientMessageId: string): Promise<Message[] | null>;
  /** Throws when the backend does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Options shared by every backend. */
export interface StoreOptions {
  /** Key prefix, so tests and deployments do not collide. */
  prefix?: string;
  /** Seconds a session and its transcript live after the last message. */
  ttlSeconds?: number;
  /** Longest wait for a conversation lock, in ms. */
  lockTimeoutMs?: number;
}
