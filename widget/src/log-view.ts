import { button, el } from './dom.js';
import { renderMessage, renderQuickReplies, type RenderContext } from './messages.js';
import type { Message, QuickReply } from './types.js';

/** The message log on screen: messages in seq order, the one set of live quick replies, and local notices. */
export class LogView {
  /** The seq of the message whose quick replies are shown (0: none). */
  private quickFor = 0;

  constructor(
    readonly node: HTMLElement,
    private readonly focusInput: () => void,
    private readonly focused: () => Element | null,
  ) {}

  /** Puts a message at its place by seq (a caught-up message may be older than what is shown). */
  insert(node: HTMLElement, seq: number): void {
    const log = this.node;
    const others = (Array.from(log.children) as HTMLElement[]).filter((c) => c !== node);
    const next = others.find((c) => Number(c.dataset.seq) > seq);
    if (next) return void log.insertBefore(node, next);
    if (node.parentNode !== log) return void log.append(node);
    // Already shown (a sent message taking its seq): it moves only if a message stored before it is below it.
    const prev = others.filter((c) => Number(c.dataset.seq) < seq).at(-1);
    if (prev && prev.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_PRECEDING) prev.after(node);
  }

  /** Renders the whole log again (first paint, a language switch, a new conversation); `pending` are sent messages without a seq yet. */
  renderAll(messages: Message[], pending: HTMLElement[], ctx: RenderContext): void {
    this.node.replaceChildren();
    this.quickFor = 0;
    for (const m of messages) this.node.append(renderMessage(m, ctx));
    for (const p of pending) this.node.append(p);
  }

  /**
   * Shows the buttons only under the newest message that has them, and only until the user answers
   * (`answering`: a message of the user's is on its way). Stale buttons go; a focus on them moves to the input.
   */
  refreshQuickReplies(messages: Message[], answering: boolean, label: string, onPick: (q: QuickReply) => void): void {
    let target: Message | undefined;
    if (!answering) {
      for (let i = messages.length - 1; i >= 0; i--) {
        const m = messages[i]!;
        if (m.from === 'user') break;
        if (m.quickReplies?.length) {
          target = m;
          break;
        }
      }
    }
    const seq = target?.seq ?? 0;
    if (seq === this.quickFor) return;
    const hadFocus = this.focused()?.closest('.quick') != null;
    this.node.querySelectorAll('.quick').forEach((q) => q.remove());
    this.quickFor = seq;
    if (target) this.node.querySelector(`.msg[data-seq="${seq}"]`)?.append(renderQuickReplies(target.quickReplies!, label, onPick));
    if (hadFocus) this.focusInput();
  }

  /** A local line in the log (not part of the transcript), with an optional action button. */
  notice(text: string, action?: { label: string; run: () => void }): void {
    const node = el('div', { class: 'notice' }, el('p', {}, text));
    if (action)
      node.append(
        button(action.label, 'retry', () => {
          node.remove();
          action.run();
        }),
      );
    this.node.append(node);
    this.node.scrollTop = this.node.scrollHeight;
  }
}
