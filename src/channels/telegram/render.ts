import type { QuickReply, Reply } from '../../core/index.js';
import { codePoints, splitText } from '../push/index.js';

/** Telegram's limit on one message's text, in characters. */
export const TELEGRAM_MAX_TEXT = 4096;
/** Telegram's limit on an inline button's callback_data, in bytes. */
export const TELEGRAM_MAX_CALLBACK_BYTES = 64;

/** One Telegram message before its buttons get their callback_data. */
export interface TelegramMessage {
  text: string;
  /** Quick replies as rows of inline buttons, on the last part of a split reply only. */
  buttons?: QuickReply[][];
}

/** Buttons per keyboard row: short titles pair up, long ones get a row each. */
function rows(quickReplies: QuickReply[]): QuickReply[][] {
  const out: QuickReply[][] = [];
  for (const q of quickReplies) {
    const last = out.at(-1);
    if (last && last.length < 2 && codePoints(q.title) <= 8 && codePoints(last[0]!.title) <= 8) last.push(q);
    else out.push([q]);
  }
  return out;
}

/**
 * Core replies → Telegram messages: plain text (no parse mode, so nothing a user or agent typed is ever
 * interpreted as markup), cards as their text fallback, long text split under 4,096 characters, agent
 * messages signed with the agent's name.
 */
export function renderTelegram(replies: Reply[]): TelegramMessage[] {
  const out: TelegramMessage[] = [];
  for (const r of replies) {
    const body = r.author ? `${r.author}：${r.text}` : r.text;
    const parts = splitText(body, TELEGRAM_MAX_TEXT, codePoints);
    if (!parts.length && r.quickReplies?.length) parts.push('请选择：');
    parts.forEach((text, i) => {
      const last = i === parts.length - 1;
      out.push(last && r.quickReplies?.length ? { text, buttons: rows(r.quickReplies) } : { text });
    });
  }
  return out;
}
