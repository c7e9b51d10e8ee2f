import type { Message } from '../core/index.js';
import type { ApplicationStore, SessionStore, TranscriptStore, TurnCommit } from './types.js';

/** Where a backend keeps the messages stored under a client message id. */
export interface TurnIndex {
  get(conversationId: string, clientMessageId: string): Promise<Message[] | null>;
  set(conversationId: string, clientMessageId: string, messages: Message[]): Promise<void>;
}

/**
 * A commit made of separate writes, in the order that loses least on a crash (applications, session,
 * transcript, turn index). Not atomic: backends with transactions replace it (issue: correct under faults).
 */
export async function sequentialCommit(
  stores: { sessions: SessionStore; transcripts: TranscriptStore; applications: ApplicationStore; turns: TurnIndex },
  commit: TurnCommit,
): Promise<Message[]> {
  for (const application of commit.applications) await stores.applications.save(application);
  await stores.sessions.set(commit.conversationId, commit.session);
  const stored = await stores.transcripts.append(commit.conversationId, commit.messages);
  if (commit.clientMessageId) await stores.turns.set(commit.conversationId, commit.clientMessageId, stored);
  return stored;
}
