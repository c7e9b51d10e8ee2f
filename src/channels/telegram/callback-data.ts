import { createHash } from 'node:crypto';
import type { SessionStore } from '../../store/index.js';
import { TELEGRAM_MAX_CALLBACK_BYTES } from './render.js';

/** Session-store record kind holding a long postback behind a short callback key. */
export const CALLBACK_KEY_KIND = 'tgkey';

/**
 * Postbacks ↔ Telegram callback_data (≤ 64 bytes). A postback that fits travels inline as `p:<postback>`;
 * a longer one is kept in the session store under `tgkey:<hash>` (it expires with the store's TTL) and
 * travels as `k:<hash>`. The hash is of the postback itself, so the same button always gets the same key.
 */
export class CallbackCodec {
  constructor(private readonly sessions: SessionStore) {}

  /** The callback_data for a postback, storing the long ones. */
  async encode(postback: string): Promise<string> {
    const inline = `p:${postback}`;
    if (Buffer.byteLength(inline) <= TELEGRAM_MAX_CALLBACK_BYTES) return inline;
    const key = createHash('sha256').update(postback).digest('base64url').slice(0, 22);
    await this.sessions.set(`${CALLBACK_KEY_KIND}:${key}`, { schemaVersion: 1, state: { postback }, updatedAt: new Date().toISOString() });
    return `k:${key}`;
  }

  /** The postback behind callback_data, or null when it is unknown or its key expired (a stale button). */
  async decode(data: string): Promise<string | null> {
    if (data.startsWith('p:')) return data.slice(2) || null;
    if (!data.startsWith('k:')) return null;
    const rec = await this.sessions.get<{ postback?: unknown }>(`${CALLBACK_KEY_KIND}:${data.slice(2)}`);
    return typeof rec?.state.postback === 'string' ? rec.state.postback : null;
  }
}
