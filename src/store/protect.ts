import { openApplication, openSession, sealApplication, sealSession, type FieldCipher } from '../privacy/index.js';
import type { Stores } from './types.js';

/**
 * Wraps a backend so personal data is ciphertext at rest: application answers and mobile sealed on save and
 * opened on read, whole session states likewise (mid-flow they hold raw answers). Without a cipher, returns the backend.
 */
export function protectStores(inner: Stores, cipher: FieldCipher | undefined): Stores {
  if (!cipher) return inner;
  const { sessions, applications } = inner;
  const open = <T extends Parameters<typeof openApplication>[0] | null>(app: T) => (app ? openApplication(app, cipher) : null);
  return {
    ...inner,
    backend: inner.backend,
    sessions: {
      async get(id) {
        const rec = await sessions.get(id);
        return rec ? openSession(id, rec, cipher) : null;
      },
      set: (id, record) => sessions.set(id, sealSession(id, record, cipher)),
      delete: (id) => sessions.delete(id),
    },
    applications: {
      nextRef: (day) => applications.nextRef(day),
      save: async (app) => openApplication(await applications.save(sealApplication(app, cipher)), cipher),
      get: async (ref) => open(await applications.get(ref)),
      findByRun: async (runId) => open(await applications.findByRun(runId)),
      updateStatus: async (ref, status, note) => open(await applications.updateStatus(ref, status, note)),
    },
    commitTurn: (c) =>
      inner.commitTurn({
        ...c,
        session: sealSession(c.conversationId, c.session, cipher),
        applications: c.applications.map((a) => sealApplication(a, cipher)),
      }),
  };
}
