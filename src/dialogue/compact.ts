import { normalize } from '../nlu/index.js';

/** Knowledge strings whose compact form is kept at most (several knowledge versions after hot reloads). */
const MAX_NAMES = 20_000;

let lastText: string | undefined;
let lastCompact = '';
const names = new Map<string, string>();

/**
 * The normalised text without whitespace: how control words, option names and answers are compared. One turn asks
 * many such questions of the same message, so the last text's result is kept (one entry: no cache across messages).
 */
export function compact(text: string): string {
  if (text !== lastText) {
    lastCompact = normalize(text).replace(/\s/g, '');
    lastText = text;
  }
  return lastCompact;
}

/** `compact` of a knowledge string (an option's name, a question's label, a cue): computed once per string. */
export function compactName(name: string): string {
  let c = names.get(name);
  if (c === undefined) {
    if (names.size >= MAX_NAMES) names.clear();
    c = normalize(name).replace(/\s/g, '');
    names.set(name, c);
  }
  return c;
}
