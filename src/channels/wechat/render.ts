import type { Message, QuickReply, Reply } from '../../core/index.js';
import { lastQuickReplies, renderText } from '../render-text.js';
import { codePoints, splitMeasured, utf8Bytes } from '../push/index.js';

/** WeChat's limit on one text message (passive reply or 客服消息), in UTF-8 bytes. */
export const WECHAT_MAX_TEXT_BYTES = 2048;
/** The same limit in characters for any text: a Chinese character takes 3 bytes. */
export const WECHAT_MAX_TEXT_CHARS = Math.floor(WECHAT_MAX_TEXT_BYTES / 3);

/**
 * Core replies → WeChat text messages of at most 2,048 bytes and 682 characters: cards as text, quick replies as a numbered
 * menu, agent messages signed, one turn's replies joined so the first part fits the single passive reply.
 */
export function renderWechat(replies: Reply[]): string[] {
  const signed = replies.map((r) => (r.author ? { ...r, text: `${r.author}：${r.text}` } : r));
  const text = renderText(signed, { maxTextChars: Number.MAX_SAFE_INTEGER, buttons: false, cards: false })
    .map((m) => m.text.trim())
    .filter(Boolean)
    .join('\n\n');
  return splitMeasured(text, WECHAT_MAX_TEXT_BYTES, utf8Bytes).flatMap((part) => splitMeasured(part, WECHAT_MAX_TEXT_CHARS, codePoints));
}

/** The menu a typed number answers after these replies: the last buttons offered, or none. */
export function menuOf(messages: Message[]): QuickReply[] {
  return lastQuickReplies(messages);
}
