import { el } from './dom.js';
import { renderLight } from './format.js';
import { statusName, type Strings } from './i18n.js';
import type { Card, Lang } from './types.js';

/** Cards whose content the message text only repeats: the card is shown instead, the text stays one click away. */
export function cardReplacesText(card: Card): boolean {
  return card.type === 'checklist' || card.type === 'summary';
}

/** The DOM of a card, or null for a type this widget does not know (the text fallback is shown). */
export function renderCard(card: Card, t: Strings, lang: Lang): HTMLElement | null {
  switch (card.type) {
    case 'guide':
      return frame('guide', card.title, rows(card.facts));
    case 'summary':
      return frame('summary', card.title, rows(card.fields));
    case 'checklist':
      return frame('checklist', card.title, checklist(card.entries, t));
    case 'application':
      return application(card, t, lang);
    case 'handoff':
      return frame('handoff', t.handoffCard, card.ticket ? rows([{ label: t.ticket, value: card.ticket }]) : null);
    default:
      return null;
  }
}

function frame(kind: string, title: string, body: HTMLElement | null): HTMLElement {
  return el('section', { class: `card card-${kind}`, attrs: { 'aria-label': title } }, el('h3', { class: 'card-title' }, title), body);
}

function rows(list: { label: string; value: string }[]): HTMLElement {
  const dl = el('dl', { class: 'rows' });
  for (const r of list) dl.append(el('div', { class: 'row' }, el('dt', {}, r.label), el('dd', {}, renderLight(document, r.value))));
  return dl;
}

function checklist(entries: Extract<Card, { type: 'checklist' }>['entries'], t: Strings): HTMLElement {
  const ul = el('ul', { class: 'checklist' });
  for (const m of entries) {
    const optional = m.requirement === '可容缺';
    const badge = el('span', { class: `badge ${optional ? 'badge-optional' : 'badge-required'}` }, optional ? t.optional : t.required);
    ul.append(
      el(
        'li',
        { class: m.provided ? 'provided' : '' },
        badge,
        el('span', { class: 'material' }, m.name),
        m.commitment && el('span', { class: 'note' }, t.commitment),
        m.provided && el('span', { class: 'note ok' }, `✓ ${t.provided}`),
      ),
    );
  }
  return ul;
}

function application(card: Extract<Card, { type: 'application' }>, t: Strings, lang: Lang): HTMLElement {
  const head = el(
    'div',
    { class: 'app-head' },
    el('div', { class: 'app-ref' }, el('span', { class: 'label' }, t.reference), el('strong', { class: 'ref', attrs: { 'data-ref': card.ref } }, card.ref)),
    el('div', { class: 'app-meta' }, el('span', {}, `${t.status}${t.colon}${statusName(card.status, lang)}`), el('span', {}, `${t.dueDate}${t.colon}${card.dueDate}`)),
  );
  return frame('application', card.title, el('div', {}, head, card.fields.length ? rows(card.fields) : null));
}
