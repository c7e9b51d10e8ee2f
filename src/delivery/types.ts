import type { Message } from '../core/index.js';

/**
 * Publishes every message appended to a transcript, whoever wrote it (bot, agent, system), so that any
 * instance holding a live connection for the conversation (widget socket, agent console) gets it.
 * The transcript stays the source of truth: a subscriber that missed a publish catches up by `seq`.
 * In memory mode an in-process emitter; in Redis mode Redis pub/sub on `<prefix>:deliver:<conversationId>`.
 */
export interface MessageBus {
  publish(conversationId: string, messages: Message[]): Promise<void>;
  /** Listens to one conversation; returns the unsubscribe function. */
  subscribe(conversationId: string, listener: (messages: Message[]) => void): () => void;
  /** Listens to every conversation (agent console queue views, push channels); returns the unsubscribe function. */
  subscribeAll(listener: (conversationId: string, messages: Message[]) => void): () => void;
  close(): Promise<void>;
}
