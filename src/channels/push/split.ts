/** Measures a string: characters (code points) for Telegram, UTF-8 bytes for WeChat. */
export type Measure = (s: string) => number;

/** Length in Unicode code points. */
export const codePoints: Measure = (s) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Length in UTF-8 bytes. */
export const utf8Bytes: Measure = (s) => Buffer.byteLength(s, 'utf8');

/**
 * Splits text into parts of at most `max` by `measure`, preferring paragraph, then line, then sentence breaks,
 * never cutting a code point (emoji stay whole). Empty text gives no parts. (The shared render-text splitter
 * counts characters; WeChat's limits are in bytes.)
 */
export function splitMeasured(text: string, max: number, measure: Measure): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest) {
    if (measure(rest) <= max) {
      parts.push(rest);
      break;
    }
    const head = fitPrefix(rest, max, measure);
    const cut = breakAt(head);
    parts.push(head.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  return parts.filter(Boolean);
}

/** The longest prefix of `s` within `max`, whole code points only. */
function fitPrefix(s: string, max: number, measure: Measure): string {
  let out = '';
  let size = 0;
  for (const ch of s) {
    const w = measure(ch);
    if (size + w > max) break;
    out += ch;
    size += w;
  }
  return out;
}

const BREAKS = ['\n\n', '\n', '。', '！', '？', '；', '. ', '，', ' '];

/** Where to cut `head`: after the last good break in its second half, else at its end. */
function breakAt(head: string): number {
  for (const b of BREAKS) {
    const i = head.lastIndexOf(b);
    if (i >= head.length / 2) return i + b.length;
  }
  return head.length;
}
