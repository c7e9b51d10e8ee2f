import { AppError, type Message } from '../../core/index.js';

/** What a user sends: typed text or a button's postback. */
export type ChannelInput = { text: string } | { postback: string };

/**
 * The part of the ConversationService (docs/architecture.md) a push channel uses: open or find the
 * conversation of one chat, run a turn with the platform's message id, read the transcript.
 */
export interface ChannelService {
  start(opts: { channel: string; conversationId: string; lang?: 'zh' | 'en' }): Promise<{ conversationId: string; messages: Message[]; created: boolean }>;
  send(conversationId: string, input: ChannelInput, opts?: { clientMessageId?: string }): Promise<{ messages: Message[]; duplicate?: boolean }>;
  history(conversationId: string, after?: number, limit?: number): Promise<Message[]>;
}

/** Longest user text a channel passes to the service, in characters (the REST API's limit). */
export const MAX_USER_TEXT = 2000;

/** The replies of a turn: what the bot, an agent or the system wrote, never the user's own message. */
export function repliesOf(messages: Message[]): Message[] {
  return messages.filter((m) => m.from !== 'user');
}

/**
 * Runs a turn on a chat's conversation, opening it first when it does not exist yet (first message, or the
 * stored session expired): the common case costs one lock, not two.
 */
export async function sendOrOpen(service: ChannelService, channel: string, conversationId: string, input: ChannelInput, clientMessageId: string): Promise<{ messages: Message[]; duplicate?: boolean }> {
  try {
    return await service.send(conversationId, input, { clientMessageId });
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'CONVERSATION_NOT_FOUND')) throw err;
    await service.start({ channel, conversationId });
    return service.send(conversationId, input, { clientMessageId });
  }
}
