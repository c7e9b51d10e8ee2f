import { AppError } from '../core/index.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Longest text a user may send, in characters (code points). */
export const MAX_TEXT = 2000;

/**
 * Checks a user's text before it reaches the pipeline: not empty (whitespace alone gets the bot's polite reply), no NUL, no lone surrogate (invalid UTF-16
 * that would corrupt storage and logs), at most MAX_TEXT characters. Throws the catalogue error; returns the text.
 */
export function validateText(text: string, max = MAX_TEXT): string {
  if (text.length === 0) throw new AppError('EMPTY_MESSAGE');
  if (text.includes('\u0000') || LONE_SURROGATE.test(text)) throw new AppError('INVALID_TEXT');
  if ([...text].length > max) throw new AppError('MESSAGE_TOO_LONG');
  return text;
}

/** Checks a button postback: no NUL or lone surrogate (length is checked by the schema). */
export function validatePostback(postback: string): string {
  if (postback.includes('\u0000') || LONE_SURROGATE.test(postback)) throw new AppError('INVALID_TEXT');
  return postback;
}
