/** A message cut into its asking part and the rest. */
export interface Clauses {
  /** The sentences that ask something, in order (at least one when the message has text). */
  asks: string[];
  /** The sentences that tell the story around the asks. */
  context: string[];
  /** Every sentence, in order. */
  sentences: string[];
}

const SENTENCE_END = /[。！？!?；;\n\r…]+|\.{2,}|(?<=[\p{Script=Han}])\.(?=\s|\p{Script=Han}|$)/u;
const QUESTION_MARK = /[?？]/;
/** Below this length a message is one ask: there is no story to separate. */
const SHORT = 30;

/**
 * Splits a message into sentences and finds the asking part: sentences with a question mark or an asking
 * word (请问, 怎么, 谁负责…), else the last sentence. The rest is context.
 */
export function splitClauses(raw: string, askingWords: string[]): Clauses {
  const text = raw.trim();
  const pieces = splitKeepingMarks(text).map((p) => p.trim()).filter((p) => /[\p{L}\p{N}]/u.test(p));
  if (!pieces.length) return { asks: text ? [text] : [], context: [], sentences: [] };
  const questions = pieces.filter((p) => QUESTION_MARK.test(p)).length;
  if (([...text].length <= SHORT && questions < 2) || pieces.length === 1) return { asks: [pieces.join('，')], context: [], sentences: pieces };
  const asking = pieces.filter((p) => QUESTION_MARK.test(p) || askingWords.some((w) => p.includes(w)));
  // Question marks are the surest sign; asking words without one only when nothing has a mark.
  const marked = asking.filter((p) => QUESTION_MARK.test(p));
  const asks = marked.length ? marked : asking.length ? asking.slice(-2) : [pieces.at(-1)!];
  const askSet = new Set(asks);
  return { asks: mergeShort(asks), context: pieces.filter((p) => !askSet.has(p)), sentences: pieces };
}

/** Sentences with their end marks kept (so a question mark still shows which one asks). */
function splitKeepingMarks(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  for (let guard = 0; rest && guard < 200; guard++) {
    const m = SENTENCE_END.exec(rest);
    if (!m) break;
    out.push(rest.slice(0, m.index + m[0].length));
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest) out.push(rest);
  return out;
}

/** An ask of a few characters ("怎么办？") is read together with the one before it. */
function mergeShort(asks: string[]): string[] {
  const out: string[] = [];
  for (const a of asks) {
    if (out.length && [...a.replace(/[\p{P}\s]/gu, '')].length <= 5) out[out.length - 1] += a;
    else out.push(a);
  }
  return out;
}
