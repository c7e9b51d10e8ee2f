import type { FastifyInstance } from 'fastify';
import type { Message, Reply } from '../core/index.js';

/** What a platform can show; the renderer degrades anything richer to numbered text. */
export interface ChannelCapabilities {
  /** Quick-reply buttons are shown as buttons (otherwise: a numbered menu answered with the number). */
  buttons: boolean;
  /** Cards are shown as cards (otherwise: their plain-text fallback). */
  cards: boolean;
  /** Longest button payload the platform carries, in bytes (Telegram: 64); longer ones go through a stored short key. */
  maxPayloadBytes: number;
  /** Longest text in one platform message, in characters; longer replies are split. */
  maxTextChars: number;
  /** Time the platform waits for a synchronous answer, in ms (WeChat: 5000); undefined: no such window. */
  replyWindowMs?: number;
  /** The channel holds a live connection (widget socket): it receives messages from the delivery bus, not from `send`. */
  live: boolean;
}

/**
 * One platform: its routes, its renderer and proactive delivery. A conversation on a channel is addressed as
 * `<channel>:<id>` (e.g. `telegram:<chat id>`, `wechat:<openid>`); the web widget and the REST API use the
 * conversation id the API returned.
 */
export interface ChannelAdapter<Rendered = unknown> {
  /** The channel name, the first part of a conversation address: `web`, `telegram`, `wechat`, `cli`. */
  readonly name: string;
  readonly capabilities: ChannelCapabilities;
  /** Adds the channel's HTTP routes (webhooks, sockets, static files), encapsulated in their own plugin. */
  register?(app: FastifyInstance): Promise<void>;
  /** Sends messages to a user who did not just write (agent messages, status updates): Bot Framework's continueConversation. */
  send(conversationId: string, messages: Message[]): Promise<void>;
  /** Turns core replies into the platform's own messages. */
  render(replies: Reply[]): Rendered[];
  /** Starts background work (long polling) and stops it; optional. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** The `<channel>` part of a conversation address (`telegram:42` → `telegram`); plain ids belong to `web`. */
export function channelOf(conversationId: string): string {
  const i = conversationId.indexOf(':');
  return i > 0 ? conversationId.slice(0, i) : 'web';
}
