import { Api, ApiError, type Conversation } from './api.js';
import { Connection, type ConnectionStatus } from './connection.js';
import { button, el } from './dom.js';
import { strings, type Strings } from './i18n.js';
import { LogView } from './log-view.js';
import { buttonTitle, renderMessage, renderPending, type RenderContext } from './messages.js';
import { KEPT_MESSAGES, WidgetStorage, type Saved } from './storage.js';
import { Timeline } from './timeline.js';
import type { Lang, Message, Outgoing, QuickReply } from './types.js';
import { Shell } from './view.js';

/** How a page configures the widget (the script tag's data- attributes). */
export interface WidgetOptions {
  /** Origin (and optional path) of the assistant's API. */
  api: string;
  lang: Lang;
  title?: string;
  hotline?: string;
  transport: 'auto' | 'websocket' | 'poll';
  /** Open the panel at load. */
  open?: boolean;
}

/** Longest message the API accepts, in characters (code points). */
const MAX_TEXT = 2000;
/** The typing line goes away by itself if no reply comes. */
const TYPING_TIMEOUT_MS = 20_000;

/** A sent message the server has not yet echoed with a seq. */
interface Unbound {
  el: HTMLElement;
  out: Outgoing;
  /** The highest seq seen when it was sent: its own seq is higher. */
  after: number;
}

/** The chat widget: one conversation, its transcript on screen, and the connection that keeps it current. */
export class ChatWidget {
  private readonly api: Api;
  private readonly storage: WidgetStorage;
  private readonly shell: Shell;
  private saved: Saved;
  private lang: Lang;
  private t: Strings;
  private timeline: Timeline;
  private conversation: Conversation | null = null;
  private connection: Connection | null = null;
  private starting: Promise<Conversation | null> | null = null;
  /** Sent messages without a seq yet, oldest first. */
  private readonly unbound: Unbound[] = [];
  /** Sent messages the connection has not yet reported on, by clientMessageId (bound or not). */
  private readonly sending = new Map<string, Unbound>();
  private readonly titles = new Map<string, string>();
  private readonly log: LogView;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private unread = 0;
  private wasDown = false;
  private catchingUpFrom = -1;

  constructor(private readonly opts: WidgetOptions) {
    this.api = new Api(opts.api);
    this.storage = new WidgetStorage(this.api.base);
    this.saved = this.storage.load();
    this.lang = this.saved.lang ?? opts.lang;
    this.t = strings(this.lang);
    this.timeline = new Timeline(this.saved.conversationId ? this.saved.messages : []);
    this.shell = new Shell(this.t, { title: opts.title, hotline: opts.hotline }, {
      onOpen: () => this.open(),
      onClose: () => this.close(),
      onSend: (text) => this.sendText(text),
      onHandoff: () => this.sendPostback({ title: this.t.handoff, postback: 'handoff' }),
      onToggleLarge: () => this.toggleLarge(),
      onToggleLang: () => void this.toggleLang(),
    });
    this.shell.applyStrings(this.t, this.lang);
    this.shell.setLarge(this.saved.large);
    this.log = new LogView(this.shell.log, () => this.shell.input.focus(), () => this.shell.focused);
  }

  /** Adds the widget to the page; a kept conversation reconnects at once (agent messages arrive while closed). */
  mount(parent: HTMLElement = document.body): void {
    parent.append(this.shell.host);
    this.renderAll();
    if (this.saved.conversationId) {
      this.conversation = { conversationId: this.saved.conversationId, token: this.saved.token };
      this.connect();
    }
    if (this.opts.open || this.saved.open) this.open(false);
    window.addEventListener('online', () => this.connection?.nudge());
    document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && this.connection?.nudge());
  }

  /** Opens the panel (and starts the conversation if there is none yet). */
  open(focus = true): void {
    this.shell.open(focus);
    this.unread = 0;
    this.persist({ open: true });
    void this.ensureConversation();
  }

  /** Closes the panel; the focus returns to the bubble. */
  close(): void {
    this.shell.close();
    this.persist({ open: false });
  }

  // ---- conversation ----------------------------------------------------------------------------------------

  private ensureConversation(): Promise<Conversation | null> {
    if (this.conversation) return Promise.resolve(this.conversation);
    this.starting ??= this.startConversation().finally(() => (this.starting = null));
    return this.starting;
  }

  private async startConversation(): Promise<Conversation | null> {
    try {
      const r = await this.api.start(this.lang);
      this.conversation = { conversationId: r.conversationId, token: r.token };
      this.timeline = new Timeline();
      this.saved = { ...this.saved, conversationId: r.conversationId, token: r.token, lang: this.lang, messages: [] };
      this.onMessages(r.messages);
      this.connect();
      return this.conversation;
    } catch (err) {
      this.notice(`${this.t.startFailed}${this.opts.hotline ? ` ${this.opts.hotline}` : ''}${this.lang === 'en' ? '.' : '。'}`, { label: this.t.retry, run: () => void this.ensureConversation() });
      if (!(err instanceof ApiError)) console.error(err);
      return null;
    }
  }

  private connect(): void {
    this.connection?.stop();
    const conv = this.conversation!;
    this.connection = new Connection({
      api: this.api,
      conversation: conv,
      transport: this.opts.transport,
      after: () => this.timeline.contiguous,
      events: {
        onMessages: (m) => this.onMessages(m),
        onTyping: () => this.setTyping(true),
        onStatus: (s) => this.onStatus(s),
        onSendResult: (id, error) => this.onSendResult(id, error),
        onGone: () => void this.restart(this.t.gone),
      },
    });
    this.connection.start();
    // Messages typed before the conversation existed, or left unanswered by a previous connection.
    for (const u of this.sending.values()) this.connection.send(u.out);
  }

  /** Drops the current conversation and starts a new one (expired, or a new reply language). */
  private async restart(notice?: string): Promise<void> {
    // Several requests may learn at once that the conversation is gone: one restart.
    if (!this.conversation && this.starting) return;
    // Typed questions not yet answered are asked again in the new conversation (buttons belonged to the old one).
    const carried = [...this.sending.values()].flatMap((u) => ('text' in u.out ? [u.out.text] : []));
    this.connection?.stop();
    this.connection = null;
    this.conversation = null;
    this.unbound.length = 0;
    this.sending.clear();
    this.timeline = new Timeline();
    this.saved = { ...this.saved, conversationId: undefined, token: undefined, messages: [] };
    this.storage.save(this.saved);
    this.renderAll();
    if (notice) this.notice(notice);
    if ((await this.ensureConversation()) && carried.length) for (const text of carried) this.sendText(text);
  }

  // ---- incoming ----------------------------------------------------------------------------------------------

  private onMessages(messages: Message[]): void {
    const fresh = this.timeline.add(messages);
    if (!fresh.length) return this.catchUpIfGap();
    const follow = this.shell.following;
    let replied = false;
    let first: HTMLElement | undefined;
    for (const m of fresh) {
      if (m.from === 'user' && this.bind(m)) continue;
      const node = renderMessage(m, this.context());
      this.log.insert(node, m.seq);
      first ??= node;
      if (m.from !== 'user') replied = true;
    }
    if (replied) this.setTyping(false);
    this.refreshQuickReplies();
    if (follow && first) this.shell.reveal(first);
    if (!this.shell.isOpen && replied) {
      this.unread += fresh.filter((m) => m.from === 'bot' || m.from === 'agent').length;
      this.shell.setUnread(this.unread);
    }
    this.persist({});
    this.catchUpIfGap();
  }

  /**
   * A user message the server stored: the oldest message sent from here and not yet matched takes its seq
   * instead of showing twice. Typed text is shown as stored, with personal numbers masked as in the transcript.
   */
  private bind(m: Message): boolean {
    const i = this.unbound.findIndex((u) => m.seq > u.after && !u.el.classList.contains('failed'));
    if (i < 0) return false;
    const [u] = this.unbound.splice(i, 1);
    u!.el.dataset.seq = String(m.seq);
    // Stored means sent, whether or not the answer to the send has come back yet.
    u!.el.classList.remove('pending');
    u!.el.querySelector('.state')?.remove();
    const body = u!.el.querySelector('.body');
    if (body && 'text' in u!.out) body.textContent = m.text;
    // Something stored before it (an agent's message while it waited to be sent) goes above it, as in the transcript.
    const focusWasIn = u!.el.contains(this.shell.focused);
    this.log.insert(u!.el, m.seq);
    if (focusWasIn) this.shell.input.focus();
    return true;
  }

  /** A seq is missing (the user's own message after a REST send, a lost publish): read the transcript from there. */
  private catchUpIfGap(): void {
    const conv = this.conversation;
    const from = this.timeline.contiguous;
    if (!conv || !this.timeline.hasGap || from === this.catchingUpFrom) return;
    this.catchingUpFrom = from;
    this.api.history(conv, from).then(
      (m) => conv === this.conversation && this.onMessages(m),
      () => (this.catchingUpFrom = -1),
    );
  }

  private get connected(): boolean {
    const s = this.connection?.current;
    return s === 'online' || s === 'polling';
  }

  private onStatus(s: ConnectionStatus): void {
    if (s === 'offline' || (s === 'connecting' && this.wasDown)) {
      this.wasDown = true;
      this.setTyping(false);
      this.shell.setBanner(this.t.offline);
    } else if (s === 'online' || s === 'polling') {
      if (this.wasDown) this.shell.setBanner(this.t.restored, true);
      this.wasDown = false;
    }
    this.shell.root.dataset.status = s;
    this.shell.root.dataset.transport = this.connection?.transport ?? '';
  }

  private setTyping(on: boolean): void {
    clearTimeout(this.typingTimer);
    this.shell.setTyping(on);
    if (on) this.typingTimer = setTimeout(() => this.shell.setTyping(false), TYPING_TIMEOUT_MS);
  }

  // ---- outgoing ----------------------------------------------------------------------------------------------

  private sendText(text: string): void {
    const trimmed = text.trim();
    if (!trimmed) return;
    if ([...trimmed].length > MAX_TEXT) return this.notice(this.t.tooLong);
    this.dispatch({ clientMessageId: uuid(), text: trimmed }, trimmed);
  }

  private sendPostback(q: QuickReply): void {
    this.titles.set(q.postback, q.title);
    this.dispatch({ clientMessageId: uuid(), postback: q.postback }, q.title);
    this.shell.input.focus();
  }

  private dispatch(out: Outgoing, shown: string): void {
    const node = renderPending(shown, this.context());
    const u = { el: node, out, after: this.timeline.last };
    this.unbound.push(u);
    this.sending.set(out.clientMessageId, u);
    this.log.node.append(node);
    this.refreshQuickReplies(true);
    this.shell.scrollToEnd();
    // "Typing" while offline would promise an answer that cannot come yet; the banner says why instead.
    if (this.connected || !this.conversation) this.setTyping(true);
    void this.ensureConversation().then((c) => c && this.connection?.send(out));
  }

  private onSendResult(id: string, error?: { code: string; message: string }): void {
    const u = this.sending.get(id);
    if (!u) return;
    this.sending.delete(id);
    u.el.classList.remove('pending');
    u.el.querySelector('.state')?.remove();
    this.refreshQuickReplies();
    if (!error) return;
    this.setTyping(false);
    u.el.classList.add('failed');
    const retryable = error.code !== 'MESSAGE_TOO_LONG' && error.code !== 'BAD_REQUEST';
    const state = retryable
      ? button(this.t.failed, 'state', () => {
          state.remove();
          u.el.classList.remove('failed');
          u.el.classList.add('pending');
          this.sending.set(u.out.clientMessageId, u);
          this.setTyping(true);
          this.connection?.send(u.out);
        })
      : el('span', { class: 'state' }, error.message || this.t.tooLong);
    u.el.append(state);
    this.shell.announce(retryable ? this.t.failed : error.message);
  }

  // ---- rendering ---------------------------------------------------------------------------------------------

  private context(): RenderContext {
    return { t: this.t, lang: this.lang, titleOf: (p, seq) => this.titleFor(p, seq) };
  }

  /** The button a postback came from, in the transcript, else one pressed here (the 转人工 button). */
  private titleFor(postback: string, seq: number): string | undefined {
    return buttonTitle(this.timeline.tail(KEPT_MESSAGES * 5), postback, seq) ?? this.titles.get(postback) ?? (postback === 'handoff' ? this.t.handoff : undefined);
  }

  /** Renders the whole log again (first paint, a language switch, a new conversation). */
  private renderAll(): void {
    this.log.renderAll(this.timeline.tail(KEPT_MESSAGES * 5), this.unbound.map((u) => u.el), this.context());
    this.refreshQuickReplies();
  }

  private refreshQuickReplies(userAnswered = false): void {
    const answering = userAnswered || this.unbound.some((u) => u.el.classList.contains('pending'));
    this.log.refreshQuickReplies(this.timeline.tail(50), answering, this.t.quickReplies, (q) => this.sendPostback(q));
  }

  private notice(text: string, action?: { label: string; run: () => void }): void {
    this.log.notice(text, action);
    this.setTyping(false);
  }

  // ---- settings ----------------------------------------------------------------------------------------------

  private toggleLarge(): void {
    this.saved.large = !this.saved.large;
    this.shell.setLarge(this.saved.large);
    this.persist({});
  }

  /** Switches the interface language; the reply language follows at once while the user has not written yet. */
  private async toggleLang(): Promise<void> {
    this.lang = this.lang === 'zh' ? 'en' : 'zh';
    this.t = strings(this.lang);
    this.shell.applyStrings(this.t, this.lang);
    const untouched = this.unbound.length === 0 && this.timeline.tail(KEPT_MESSAGES).every((m) => m.from !== 'user');
    if (!this.conversation || untouched) {
      if (this.conversation) await this.restart();
      else this.renderAll();
      this.persist({ lang: this.lang });
      return;
    }
    this.renderAll();
    if (this.saved.lang !== this.lang) this.notice(this.t.langLater, { label: this.t.newChat, run: () => void this.restart() });
  }

  private persist(patch: Partial<Saved>): void {
    this.saved = { ...this.saved, ...patch, messages: this.timeline.tail(KEPT_MESSAGES) };
    if (this.conversation) this.saved.lang ??= this.lang;
    this.storage.save(this.saved);
  }
}

/** crypto.randomUUID, which only secure contexts have; a v4 UUID from getRandomValues elsewhere (an http:// page). */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
