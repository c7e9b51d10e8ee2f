import { EventEmitter } from 'node:events';
import type { Message } from '../core/index.js';
import type { MessageBus } from './types.js';

const ALL = '\u0000all';

/** In-process delivery: one emitter event per conversation, plus one for every conversation. */
export function createMemoryBus(): MessageBus {
  const emitter = new EventEmitter();
  // Every open widget socket is a listener; the default cap of 10 would only warn.
  emitter.setMaxListeners(0);
  const call = (fn: () => void) => {
    try {
      fn();
    } catch {
      // one broken listener never stops delivery to the others
    }
  };
  return {
    async publish(conversationId, messages) {
      if (!messages.length) return;
      const copy = (): Message[] => structuredClone(messages);
      for (const l of emitter.listeners(conversationId)) call(() => (l as (m: Message[]) => void)(copy()));
      for (const l of emitter.listeners(ALL)) call(() => (l as (id: string, m: Message[]) => void)(conversationId, copy()));
    },
    subscribe(conversationId, listener) {
      emitter.on(conversationId, listener);
      return () => void emitter.off(conversationId, listener);
    },
    subscribeAll(listener) {
      emitter.on(ALL, listener);
      return () => void emitter.off(ALL, listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
