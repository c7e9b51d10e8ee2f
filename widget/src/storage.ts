import { isMessage } from './timeline.js';
import type { Lang, Message } from './types.js';

/** What the widget keeps across page reloads. */
export interface Saved {
  conversationId?: string;
  token?: string;
  /** The reply language the conversation was created with. */
  lang?: Lang;
  /** The newest messages, so a reload shows them at once and catches up after the last seq. */
  messages: Message[];
  large: boolean;
  open: boolean;
}

/** Messages kept in localStorage. */
export const KEPT_MESSAGES = 100;

/** localStorage under one key per API; a browser without storage (private mode, blocked) just keeps nothing. */
export class WidgetStorage {
  private readonly key: string;

  constructor(
    apiBase: string,
    private readonly store: Storage | null = safeLocalStorage(),
  ) {
    this.key = `water-assistant:v1:${apiBase}`;
  }

  load(): Saved {
    const empty: Saved = { messages: [], large: false, open: false };
    try {
      const raw = this.store?.getItem(this.key);
      if (!raw) return empty;
      const v = JSON.parse(raw) as Partial<Saved>;
      return {
        conversationId: typeof v.conversationId === 'string' ? v.conversationId : undefined,
        token: typeof v.token === 'string' ? v.token : undefined,
        lang: v.lang === 'en' || v.lang === 'zh' ? v.lang : undefined,
        messages: Array.isArray(v.messages) ? v.messages.filter(isMessage) : [],
        large: v.large === true,
        open: v.open === true,
      };
    } catch {
      return empty;
    }
  }

  save(s: Saved): void {
    try {
      this.store?.setItem(this.key, JSON.stringify({ ...s, messages: s.messages.slice(-KEPT_MESSAGES) }));
    } catch {
      // Full or blocked storage: the conversation still works, it just is not kept.
    }
  }

  clear(): void {
    try {
      this.store?.removeItem(this.key);
    } catch {
      // As above.
    }
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
