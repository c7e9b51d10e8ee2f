/** A run of text, bold or not. */
export interface Span {
  text: string;
  bold: boolean;
}

/** A block of light formatting: a paragraph of lines, or a numbered list. */
export type Block = { type: 'para'; lines: Span[][] } | { type: 'list'; start: number; items: Span[][] };

const NUMBERED = /^\s*(\d{1,3})[.．、)）]\s*(.*)$/;

/**
 * Parses the only formatting a message may carry: line breaks, numbered lists ("1. …", "2、…") and **bold**.
 * Everything else, markup and links included, stays literal text.
 */
export function parseLight(text: string): Block[] {
  const blocks: Block[] = [];
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const m = NUMBERED.exec(raw);
    const last = blocks.at(-1);
    if (m) {
      const n = Number(m[1]);
      const spans = parseBold(m[2]!);
      if (last?.type === 'list' && n === last.start + last.items.length) last.items.push(spans);
      else blocks.push({ type: 'list', start: n, items: [spans] });
    } else if (raw.trim() === '') {
      if (last?.type === 'para') blocks.push({ type: 'para', lines: [] });
    } else if (last?.type === 'para') {
      last.lines.push(parseBold(raw));
    } else {
      blocks.push({ type: 'para', lines: [parseBold(raw)] });
    }
  }
  return blocks.filter((b) => (b.type === 'para' ? b.lines.length > 0 : true));
}

/** Splits `**bold**` runs; an unpaired `**` stays as it is. */
export function parseBold(line: string): Span[] {
  const spans: Span[] = [];
  let rest = line;
  for (;;) {
    const open = rest.indexOf('**');
    const close = open < 0 ? -1 : rest.indexOf('**', open + 2);
    if (open < 0 || close < 0 || close === open + 2) {
      if (rest) spans.push({ text: rest, bold: false });
      return merge(spans);
    }
    if (open > 0) spans.push({ text: rest.slice(0, open), bold: false });
    spans.push({ text: rest.slice(open + 2, close), bold: true });
    rest = rest.slice(close + 2);
  }
}

function merge(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const prev = out.at(-1);
    if (prev && prev.bold === s.bold) prev.text += s.text;
    else out.push({ ...s });
  }
  return out;
}

/** Builds DOM nodes for formatted text, with text nodes only: nothing typed is ever parsed as HTML. */
export function renderLight(doc: Document, text: string): DocumentFragment {
  const frag = doc.createDocumentFragment();
  for (const block of parseLight(text)) {
    if (block.type === 'para') {
      const p = doc.createElement('p');
      block.lines.forEach((line, i) => {
        if (i) p.append(doc.createElement('br'));
        appendSpans(doc, p, line);
      });
      frag.append(p);
    } else {
      const ol = doc.createElement('ol');
      if (block.start !== 1) ol.start = block.start;
      for (const item of block.items) {
        const li = doc.createElement('li');
        appendSpans(doc, li, item);
        ol.append(li);
      }
      frag.append(ol);
    }
  }
  return frag;
}

function appendSpans(doc: Document, parent: HTMLElement, spans: Span[]): void {
  for (const s of spans) {
    if (s.bold) {
      const b = doc.createElement('strong');
      b.textContent = s.text;
      parent.append(b);
    } else {
      parent.append(doc.createTextNode(s.text));
    }
  }
}
