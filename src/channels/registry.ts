import type { Logger } from '../core/index.js';
import type { ChannelAdapter } from './types.js';

/** The channels this instance runs, by name; the conversation service finds push adapters here. */
export class ChannelRegistry {
  private readonly byName = new Map<string, ChannelAdapter>();
  private readonly offReasons = new Map<string, string>();

  /** Adds an adapter; a second adapter with the same name is a wiring bug. */
  add(adapter: ChannelAdapter): this {
    if (this.byName.has(adapter.name)) throw new Error(`channel ${adapter.name} added twice`);
    this.byName.set(adapter.name, adapter);
    return this;
  }

  /** Records that a channel is off and why (said once at start). */
  off(name: string, reason: string): this {
    this.offReasons.set(name, reason);
    return this;
  }

  get(name: string): ChannelAdapter | undefined {
    return this.byName.get(name);
  }

  list(): ChannelAdapter[] {
    return [...this.byName.values()];
  }

  /** Channels that are off, with the reason. */
  disabled(): [string, string][] {
    return [...this.offReasons];
  }

  /** Starts background work (long polling, webhook set-up); a channel that fails to start is logged, never fatal. */
  async startAll(logger: Logger): Promise<void> {
    await Promise.all(
      this.list().map(async (c) => {
        try {
          await c.start?.();
        } catch (err) {
          logger.error({ channel: c.name, err: (err as Error).message }, 'channel failed to start; the others keep running');
        }
      }),
    );
  }

  /** Stops every channel's background work. */
  async stopAll(logger: Logger): Promise<void> {
    await Promise.all(this.list().map((c) => c.stop?.().catch((err: Error) => logger.warn({ channel: c.name, err: err.message }, 'channel stop failed'))));
  }
}

/** Creates an empty channel registry. */
export function createChannelRegistry(): ChannelRegistry {
  return new ChannelRegistry();
}
