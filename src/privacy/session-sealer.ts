import type { SessionRecord } from '../store/types.js';
import { isSealed, sealedKeyId, type FieldCipher } from './cipher.js';
import { sessionContext } from './seal.js';

/** Seals and opens whole session states, remembering the last ciphertext of each conversation. */
export interface SessionSealer {
  seal(id: string, record: SessionRecord): SessionRecord<string>;
  open<S>(id: string, record: SessionRecord<unknown>): SessionRecord<S>;
  /** Drops what is remembered of a conversation (its session was deleted). */
  forget(id: string): void;
}

/** Conversations whose last ciphertext is remembered by default. */
const DEFAULT_REMEMBERED = 10_000;

/**
 * Session sealing without repeated work: every turn reads the state it wrote the turn before (and the HTTP route
 * reads it once more for the token), so the last ciphertext of each conversation is kept with its plaintext JSON. A
 * stored value equal to it is not decrypted again, and a state equal to it is not encrypted again (the same
 * ciphertext is written back). Anything else, e.g. a state another instance wrote, is opened with the cipher.
 * Only ciphertext goes to the store; plaintext is kept in this process's memory, as during a turn.
 */
export function createSessionSealer(cipher: FieldCipher, remembered = DEFAULT_REMEMBERED): SessionSealer {
  const last = new Map<string, { sealed: string; json: string }>();
  const remember = (id: string, sealed: string, json: string) => {
    last.delete(id);
    last.set(id, { sealed, json });
    if (last.size > remembered) last.delete(last.keys().next().value!);
  };
  return {
    seal(id, record) {
      const json = JSON.stringify(record.state);
      const known = last.get(id);
      // A remembered ciphertext under an older key is not written back: it would undo a `data rekey` run meanwhile.
      const reuse = known?.json === json && sealedKeyId(known.sealed) === cipher.keyId;
      const sealed = reuse ? known.sealed : cipher.seal(json, sessionContext(id));
      remember(id, sealed, json);
      return { ...record, state: sealed };
    },
    open<S>(id: string, record: SessionRecord<unknown>): SessionRecord<S> {
      const state = record.state;
      if (!isSealed(state)) return record as SessionRecord<S>;
      const known = last.get(id);
      const json = known?.sealed === state ? known.json : cipher.open(state, sessionContext(id));
      remember(id, state, json);
      return { ...record, state: JSON.parse(json) as S };
    },
    forget: (id) => void last.delete(id),
  };
}
