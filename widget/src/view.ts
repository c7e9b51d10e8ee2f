import { button, el } from './dom.js';
import { htmlLang, type Strings } from './i18n.js';
import { CSS } from './styles.js';
import type { Lang } from './types.js';

/** What the shell reports to the controller. */
export interface ShellHandlers {
  onOpen(): void;
  onClose(): void;
  onSend(text: string): void;
  onHandoff(): void;
  onToggleLarge(): void;
  onToggleLang(): void;
}

/** Hotlines become tel: links only when they are plain phone numbers. */
const PHONE = /^\+?[\d -]{3,20}$/;

/** The widget's DOM in its shadow root: bubble, panel, header tools, log, typing line and composer. */
export class Shell {
  readonly host: HTMLElement;
  readonly root: HTMLElement;
  readonly log: HTMLElement;
  readonly input: HTMLTextAreaElement;
  private readonly shadow: ShadowRoot;
  private readonly bubble: HTMLButtonElement;
  private readonly bubbleLabel: HTMLElement;
  private readonly unread: HTMLElement;
  private readonly panel: HTMLElement;
  private readonly title: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly largeBtn: HTMLButtonElement;
  private readonly langBtn: HTMLButtonElement;
  private readonly closeBtn: HTMLButtonElement;
  private readonly banner: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly typingText: HTMLElement;
  private readonly announcer: HTMLElement;
  private readonly handoffBtn: HTMLButtonElement;
  private readonly sendBtn: HTMLButtonElement;
  private readonly inputLabel: HTMLElement;
  private bannerTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private t: Strings,
    private readonly opts: { title?: string; hotline?: string },
    h: ShellHandlers,
  ) {
    this.host = el('div', { attrs: { 'data-water-assistant': '' } });
    this.shadow = this.host.attachShadow({ mode: 'open' });
    adoptStyles(this.shadow, CSS);

    this.unread = el('span', { class: 'unread', attrs: { hidden: '' } });
    this.bubbleLabel = el('span', {});
    this.bubble = el('button', { class: 'bubble', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'wa-panel' } }, el('span', { class: 'icon', attrs: { 'aria-hidden': 'true' } }, '💬'), this.bubbleLabel, this.unread);
    this.bubble.addEventListener('click', () => h.onOpen());

    this.title = el('h2', { attrs: { id: 'wa-title' } });
    this.sub = el('p', { class: 'sub' });
    this.largeBtn = button('', 'tool large', () => h.onToggleLarge(), { 'aria-pressed': 'false' });
    this.langBtn = button('', 'tool lang', () => h.onToggleLang());
    this.closeBtn = button('×', 'tool close', () => h.onClose());
    const header = el('header', { class: 'bar' }, el('div', { class: 'titles' }, this.title, this.sub), el('div', { class: 'tools' }, this.largeBtn, this.langBtn, this.closeBtn));

    this.banner = el('div', { class: 'banner', attrs: { role: 'status', hidden: '' } });
    this.log = el('div', { class: 'log', attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' } });
    this.typingText = el('span', {});
    this.typing = el('div', { class: 'typing', attrs: { hidden: '' } }, el('span', { class: 'dots', attrs: { 'aria-hidden': 'true' } }, el('i'), el('i'), el('i')), this.typingText);
    this.announcer = el('div', { class: 'sr-only', attrs: { role: 'status', 'aria-live': 'polite' } });

    this.input = el('textarea', { attrs: { id: 'wa-input', rows: '1', maxlength: '2000', autocomplete: 'off', enterkeyhint: 'send' } });
    this.inputLabel = el('label', { class: 'sr-only', attrs: { for: 'wa-input' } });
    this.handoffBtn = button('', 'handoff', () => h.onHandoff());
    this.sendBtn = el('button', { class: 'send', attrs: { type: 'submit' } });
    const form = el('form', { class: 'composer' }, this.handoffBtn, this.inputLabel, this.input, this.sendBtn);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit(h);
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        // Enter while an IME is composing picks the candidate; only a plain Enter sends.
        ev.preventDefault();
        this.submit(h);
      }
    });
    this.input.addEventListener('input', () => this.autosize());

    this.panel = el('div', { class: 'panel', attrs: { id: 'wa-panel', role: 'dialog', 'aria-labelledby': 'wa-title', hidden: '' } }, header, this.banner, this.log, this.typing, form, this.announcer);
    this.panel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        h.onClose();
      }
    });
    this.root = el('div', { class: 'root' }, this.bubble, this.panel);
    this.shadow.append(this.root);
    this.applyStrings(t, 'zh');
  }

  /** Sets every interface string (on start and on a language switch). */
  applyStrings(t: Strings, lang: Lang): void {
    this.t = t;
    this.root.lang = htmlLang(lang);
    this.bubbleLabel.textContent = t.open;
    this.title.textContent = this.opts.title || t.title;
    this.sub.replaceChildren(t.subtitle);
    const hotline = this.opts.hotline?.trim();
    if (hotline) {
      this.sub.append(' · ');
      if (PHONE.test(hotline)) this.sub.append(el('a', { attrs: { href: `tel:${hotline.replace(/[ -]/g, '')}`, 'aria-label': `${t.call} ${hotline}` } }, hotline));
      else this.sub.append(hotline);
    }
    this.largeBtn.textContent = t.largeText;
    this.langBtn.textContent = t.langToggle;
    this.langBtn.lang = lang === 'en' ? 'zh-CN' : 'en';
    this.langBtn.setAttribute('aria-label', t.langToggleLabel);
    this.closeBtn.setAttribute('aria-label', t.close);
    this.closeBtn.title = t.close;
    this.log.setAttribute('aria-label', t.log);
    this.typingText.textContent = t.typing;
    this.inputLabel.textContent = t.input;
    this.input.placeholder = t.input;
    this.input.title = t.inputHint;
    this.handoffBtn.textContent = t.handoff;
    this.handoffBtn.title = t.handoffHint;
    this.sendBtn.textContent = t.send;
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  /** Shows the panel; the focus goes to the input unless the page has just loaded (focus is not taken from the page). */
  open(focus = true): void {
    this.panel.hidden = false;
    this.bubble.hidden = true;
    this.bubble.setAttribute('aria-expanded', 'true');
    this.setUnread(0);
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  /** Hides the panel and gives the focus back to the bubble. */
  close(): void {
    this.panel.hidden = true;
    this.bubble.hidden = false;
    this.bubble.setAttribute('aria-expanded', 'false');
    this.bubble.focus();
  }

  setLarge(on: boolean): void {
    this.root.classList.toggle('large', on);
    this.largeBtn.setAttribute('aria-pressed', String(on));
  }

  setUnread(n: number): void {
    this.unread.hidden = n === 0;
    this.unread.textContent = n ? String(n) : '';
    this.bubble.setAttribute('aria-label', n ? `${this.t.open} (${n})` : this.t.open);
  }

  /** The connection banner: shown while down, a short "reconnected" after, hidden otherwise. */
  setBanner(text: string | null, ok = false): void {
    clearTimeout(this.bannerTimer);
    this.banner.hidden = !text;
    this.banner.textContent = text ?? '';
    this.banner.classList.toggle('ok', ok);
    if (text && ok) this.bannerTimer = setTimeout(() => this.setBanner(null), 2500);
  }

  setTyping(on: boolean): void {
    if (this.typing.hidden === !on) return;
    this.typing.hidden = !on;
    if (on) this.announce(this.t.typing);
  }

  /** Says something to screen readers without showing it. */
  announce(text: string): void {
    this.announcer.textContent = '';
    // A fresh text node after clearing makes screen readers read a repeated text again.
    setTimeout(() => (this.announcer.textContent = text), 30);
  }

  /** Scrolls the log to its end. */
  scrollToEnd(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** True when the reader is at (or near) the end of the log, so new messages should come into view. */
  get following(): boolean {
    const l = this.log;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
  }

  /** Brings new messages into view: the end, or the start of the first one when they are taller than the log. */
  reveal(first: HTMLElement): void {
    const l = this.log;
    const top = first.getBoundingClientRect().top - l.getBoundingClientRect().top + l.scrollTop - 8;
    l.scrollTop = l.scrollHeight - top > l.clientHeight ? top : l.scrollHeight;
  }

  /** The element that has the focus inside the shadow root. */
  get focused(): Element | null {
    return this.shadow.activeElement;
  }

  private submit(h: ShellHandlers): void {
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = '';
    this.autosize();
    h.onSend(text);
  }

  private autosize(): void {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 160)}px`;
  }
}

/** Constructable style sheets where supported (no inline <style>, so a strict CSP needs no 'unsafe-inline'); a <style> otherwise. */
function adoptStyles(shadow: ShadowRoot, css: string): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [sheet];
  } catch {
    shadow.append(el('style', {}, css));
  }
}
