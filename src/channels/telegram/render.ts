import type { QuickReply, Reply } from '../../core/index.js';
import { codePoints, splitMeasured, type Measure } from '../push/index.js';
import { renderText } from '../render-text.js';

/** Telegram's limit on one message's text, in characters. */
export const TELEGRAM_MAX_TEXT = 4096;
/** Telegram counts UTF-16 code units: an emoji is two. */
const utf16: Measure = (s) => s.length;
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
 * Core replies → Telegram messages through the shared text renderer: plain text (no parse mode, so nothing a
 * user or agent typed is ever read as markup), cards as text, long text split under 4,096 characters, the
 * buttons on the last part, agent messages signed with the agent's name.
 */
export function renderTelegram(replies: Reply[]): TelegramMessage[] {
  const signed = replies.map((r) => (r.author ? { ...r, text: `${r.author}：${r.text}` } : r));
  return renderText(signed, { maxTextChars: TELEGRAM_MAX_TEXT, buttons: true, cards: false })
    .flatMap((m) => {
      const parts = utf16(m.text) > TELEGRAM_MAX_TEXT ? splitMeasured(m.text, TELEGRAM_MAX_TEXT, utf16) : [m.text];
      return parts.map((text, i) => ({ text: text.trim(), quickReplies: i === parts.length - 1 ? m.quickReplies : undefined }));
    })
    .filter((m) => m.text || m.quickReplies?.length)
    .map((m) => ({ text: m.text || '请选择：', ...(m.quickReplies?.length ? { buttons: rows(m.quickReplies) } : {}) }));
}
