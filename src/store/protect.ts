import { createSessionSealer, openApplication, sealApplication, type FieldCipher } from '../privacy/index.js';
import { isSealed } from '../privacy/index.js';
import type { OutboxEntry, OutboxRecord, OutboxStore, Stores } from './types.js';

const SEALED = '$sealed';

/** What an outbox payload's ciphertext is bound to: its entry id. */
export const outboxContext = (id: string): string => `outbox:${id}`;

/** Outbox payloads may carry personal data (a callback's mobile): sealed whole, bound to the entry id. */
function protectOutbox(inner: OutboxStore, cipher: FieldCipher): { store: OutboxStore; seal: (e: OutboxEntry) => OutboxEntry } {
  const seal = (e: OutboxEntry): OutboxEntry => (isSealed(e.payload[SEALED]) ? e : { ...e, payload: { [SEALED]: cipher.seal(JSON.stringify(e.payload), outboxContext(e.id)) } });
  const open = <R extends OutboxRecord>(r: R): R => {
    const sealed = r.payload[SEALED];
    return isSealed(sealed) ? { ...r, payload: JSON.parse(cipher.open(sealed, outboxContext(r.id))) as OutboxEntry['payload'] } : r;
  };
  const store: OutboxStore = {
    add: (entries) => inner.add(entries.map(seal)),
    claim: async (owner, leaseMs, limit, now) => (await inner.claim(owner, leaseMs, limit, now)).map(open),
    delivered: (id, owner) => inner.delivered(id, owner),
    failed: (id, owner, error, retryAt, now) => inner.failed(id, owner, error, retryAt, now),
    dead: async (limit) => (await inner.dead(limit)).map(open),
    counts: () => inner.counts(),
    get: async (id) => {
      const r = await inner.get(id);
      return r ? open(r) : null;
    },
    replay: (id, now) => inner.replay(id, now),
  };
  return { store, seal };
}

/**
 * Wraps a backend so personal data is ciphertext at rest: application answers and mobile sealed on save and
 * opened on read, whole session states likewise (mid-flow they hold raw answers), outbox payloads too. Without a cipher, returns the backend.
 */
export function protectStores(inner: Stores, cipher: FieldCipher | undefined): Stores {
  if (!cipher) return inner;
  const { sessions, applications } = inner;
  const outbox = protectOutbox(inner.outbox, cipher);
  const sealer = createSessionSealer(cipher);
  const open = <T extends Parameters<typeof openApplication>[0] | null>(app: T) => (app ? openApplication(app, cipher) : null);
  return {
    ...inner,
    backend: inner.backend,
    sessions: {
      async get(id) {
        const rec = await sessions.get(id);
        return rec ? sealer.open(id, rec) : null;
      },
      set: (id, record) => sessions.set(id, sealer.seal(id, record)),
      delete: (id) => {
        sealer.forget(id);
        return sessions.delete(id);
      },
    },
    applications: {
      nextRef: (day) => applications.nextRef(day),
      save: async (app) => openApplication(await applications.save(sealApplication(app, cipher)), cipher),
      get: async (ref) => open(await applications.get(ref)),
      findByRun: async (runId) => open(await applications.findByRun(runId)),
      updateStatus: async (ref, status, note) => open(await applications.updateStatus(ref, status, note)),
    },
    outbox: outbox.store,
    commitTurn: (c) =>
      inner.commitTurn({
        ...c,
        session: sealer.seal(c.conversationId, c.session),
        applications: c.applications.map((a) => sealApplication(a, cipher)),
        ...(c.outbox ? { outbox: c.outbox.map(outbox.seal) } : {}),
      }),
  };
}
