import type { Card, Message, QuickReply, Reply } from '../core/index.js';

/** One platform text message: its text, and the buttons when the platform shows buttons. */
export interface TextMessage {
  text: string;
  quickReplies?: QuickReply[];
}

/** How a text channel shows replies. */
export interface TextRenderOptions {
  /** Longest message, in characters (code points); longer replies are split. */
  maxTextChars: number;
  /** The platform shows buttons: keep quickReplies on the last part; otherwise a numbered menu in the text. */
  buttons?: boolean;
  /** The platform shows cards itself: leave their text out. */
  cards?: boolean;
}

/** The plain-text form of a card: the facts a card shows, one per line. */
export function cardText(card: Card): string {
  switch (card.type) {
    case 'guide':
      return [`【${card.title}】`, ...card.facts.map((f) => `${f.label}：${f.value}`)].join('\n');
    case 'checklist':
      return [`【${card.title}】`, ...card.entries.map((e) => `· ${e.name}（${e.requirement}${e.commitment ? '，可告知承诺' : ''}${e.provided === false ? '，未提供' : ''}）`)].join('\n');
    case 'summary':
      return [`【${card.title}】`, ...card.fields.map((f) => `${f.label}：${f.value}`)].join('\n');
    case 'application':
      return [`【${card.title}】`, `办件编号：${card.ref}`, `状态：${card.status}`, `预计办结：${card.dueDate}`, ...card.fields.map((f) => `${f.label}：${f.value}`)].join('\n');
    case 'handoff':
      return '';
  }
}

/** Buttons as a numbered menu the user answers with the number. */
export function numberedMenu(quickReplies: QuickReply[], lang: Reply['lang'] = 'zh'): string {
  const head = lang === 'en' ? 'Reply with a number:' : '回复数字选择：';
  return [head, ...quickReplies.map((q, i) => `${i + 1}. ${q.title}`)].join('\n');
}

/** The reply's text with its card's text, leaving out card lines the text already says. */
function withCard(reply: Reply): string {
  if (!reply.card) return reply.text;
  const extra = cardText(reply.card)
    .split('\n')
    .filter((line) => line && !reply.text.includes(line.replace(/^【|】$/g, '')));
  return extra.length ? `${reply.text}\n\n${extra.join('\n')}` : reply.text;
}

const length = (s: string) => [...s].length;

/** Splits a text into parts of at most `max` characters, at a blank line, a line end or a sentence end when it can. */
export function splitText(text: string, max: number): string[] {
  if (max <= 0 || length(text) <= max) return [text];
  const parts: string[] = [];
  let rest = text;
  while (length(rest) > max) {
    const head = [...rest].slice(0, max).join('');
    const cut = [head.lastIndexOf('\n\n'), head.lastIndexOf('\n'), Math.max(head.lastIndexOf('。'), head.lastIndexOf('；'), head.lastIndexOf('. '))]
      .map((i, k) => (k === 2 && i >= 0 ? i + 1 : i))
      .find((i) => i > max / 3);
    const at = cut ?? head.length;
    parts.push(head.slice(0, at).trimEnd());
    rest = rest.slice(at).replace(/^\s+/, '');
  }
  if (rest) parts.push(rest);
  return parts.filter((p) => p.length > 0);
}

/** Core replies as platform text messages: cards as text, buttons as a numbered menu when the platform has none, long text split. */
export function renderText(replies: Reply[], opts: TextRenderOptions): TextMessage[] {
  const out: TextMessage[] = [];
  for (const reply of replies) {
    let text = opts.cards ? reply.text : withCard(reply);
    const buttons = reply.quickReplies?.length ? reply.quickReplies : undefined;
    if (buttons && !opts.buttons) text = `${text}\n\n${numberedMenu(buttons, reply.lang)}`;
    const parts = splitText(text, opts.maxTextChars);
    parts.forEach((part, i) => out.push({ text: part, ...(buttons && opts.buttons && i === parts.length - 1 ? { quickReplies: buttons } : {}) }));
  }
  return out;
}

/** The buttons a number answers: the last ones offered since the user's last message (older menus are stale). */
export function lastQuickReplies(transcript: Message[]): QuickReply[] {
  for (let i = transcript.length - 1; i >= 0 && transcript[i]!.from !== 'user'; i--) {
    const q = transcript[i]!.quickReplies;
    if (q?.length) return q;
  }
  return [];
}

/** The postback a typed number picks from a numbered menu (`2`, `２`, ` 2 `), or undefined. */
export function pickNumbered(text: string, quickReplies: QuickReply[]): string | undefined {
  const ascii = text.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  if (!/^\d{1,2}$/.test(ascii)) return undefined;
  return quickReplies[Number(ascii) - 1]?.postback;
}
