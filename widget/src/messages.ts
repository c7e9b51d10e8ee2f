import { cardReplacesText, renderCard } from './cards.js';
import { el, button } from './dom.js';
import { renderLight } from './format.js';
import { htmlLang, type Strings } from './i18n.js';
import type { Lang, Message, QuickReply } from './types.js';

/** What rendering a message needs to know besides the message. */
export interface RenderContext {
  t: Strings;
  lang: Lang;
  /** The title of the button a postback (sent as message `seq`) came from, to show "交水费" rather than `item:payment-channels`. */
  titleOf(postback: string, seq: number): string | undefined;
}

/** Who wrote a message, as shown above it: agents by name ("人工客服 王芳"). */
export function authorLabel(m: Pick<Message, 'from' | 'author'>, t: Strings): string {
  if (m.from === 'agent') {
    const name = (m.author ?? '').trim();
    if (!name) return t.agent;
    return name.startsWith(t.agent) || name.startsWith('人工客服') ? name : `${t.agent} ${name}`;
  }
  return m.from === 'user' ? t.you : m.from === 'system' ? t.system : t.bot;
}

/** A message element: who, the formatted text and its card, and the time. */
export function renderMessage(m: Message, ctx: RenderContext): HTMLElement {
  const node = el('div', { class: `msg from-${m.from}`, attrs: { 'data-seq': String(m.seq) } });
  // Bot replies without a lang are Chinese; what people typed has no declared language.
  const lang = m.lang ?? (m.from === 'bot' ? 'zh' : undefined);
  if (lang) node.lang = htmlLang(lang);
  const visibleWho = m.from === 'agent' || m.from === 'system';
  node.append(el('span', { class: visibleWho ? 'who' : 'who sr-only' }, authorLabel(m, ctx.t)));
  node.append(m.from === 'user' ? userBody(ctx.titleOf(m.text, m.seq) ?? m.text) : richBody(m, ctx));
  const time = clock(m.at);
  if (time && m.from !== 'system') node.append(el('time', { attrs: { datetime: m.at } }, time));
  return node;
}

/** A message the user just sent, shown before the server has stored it. */
export function renderPending(text: string, ctx: RenderContext): HTMLElement {
  const node = el('div', { class: 'msg from-user pending' }, el('span', { class: 'who sr-only' }, ctx.t.you), userBody(text));
  node.append(el('span', { class: 'state', attrs: { 'aria-live': 'off' } }, ctx.t.sending));
  return node;
}

/** The user's own text: literal, line breaks kept by CSS (pre-wrap), no formatting. */
function userBody(text: string): HTMLElement {
  return el('div', { class: 'body' }, text);
}

function richBody(m: Message, ctx: RenderContext): DocumentFragment {
  const frag = document.createDocumentFragment();
  const card = m.card ? renderCard(m.card, ctx.t, ctx.lang) : null;
  if (card && m.card && cardReplacesText(m.card)) {
    const details = el('details', { class: 'text' }, el('summary', {}, ctx.t.textVersion), el('div', { class: 'plain' }, renderLight(document, m.text)));
    frag.append(el('div', { class: 'body' }, card, details));
    return frag;
  }
  const body = el('div', { class: 'body' }, renderLight(document, m.text));
  // The reference number is what the resident must keep: the application card comes before the next steps.
  if (card && m.card?.type === 'application') body.prepend(card);
  else if (card) body.append(card);
  frag.append(body);
  return frag;
}

/** The quick-reply buttons under the latest message that has them. */
export function renderQuickReplies(replies: QuickReply[], label: string, onPick: (q: QuickReply) => void): HTMLElement {
  const group = el('div', { class: 'quick', attrs: { role: 'group', 'aria-label': label } });
  for (const q of replies) group.append(button(q.title, 'qr', () => onPick(q)));
  return group;
}

/** The title of the button a postback came from: the nearest message before `seq` offering it (`yes` has many titles). */
export function buttonTitle(messages: readonly Message[], postback: string, seq: number): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.seq >= seq || !m.quickReplies) continue;
    const q = m.quickReplies.find((x) => x.postback === postback);
    if (q) return q.title;
  }
  return undefined;
}

/** HH:MM in the reader's time zone, or '' for a bad timestamp. */
function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
