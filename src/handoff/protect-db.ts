import { isSealed, type FieldCipher } from '../privacy/index.js';
import type { HandoffDb } from './types.js';

/**
 * The fields of each document kind that hold personal numbers: a handoff's raw values for the audited reveal and the
 * callback mobile being asked for, a callback ticket's mobile. Everything else in these documents is masked already.
 */
export const SEALED_HANDOFF_FIELDS: Readonly<Record<string, readonly string[]>> = { handoff: ['raw', 'callbackMobile'], callback: ['mobile'] };

/** What a field's ciphertext is bound to: its kind, document id and field (a value moved elsewhere does not open). */
export const handoffFieldContext = (kind: string, id: string, field: string): string => `${kind}:${id}:${field}`;

type Doc = Record<string, unknown>;

const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown) => v === undefined || v === null || v === '' || (isDoc(v) && Object.keys(v).length === 0);

/** Seals the personal fields of a document of `kind` (JSON inside the ciphertext, so objects keep their shape). */
function sealDoc(cipher: FieldCipher, kind: string, id: string, doc: unknown): unknown {
  const fields = SEALED_HANDOFF_FIELDS[kind];
  if (!fields || !isDoc(doc)) return doc;
  const out: Doc = { ...doc };
  for (const f of fields) if (!isEmpty(out[f]) && !isSealed(out[f])) out[f] = cipher.seal(JSON.stringify(out[f]), handoffFieldContext(kind, id, f));
  return out;
}

/** Opens what sealDoc sealed; documents written before sealing existed read as they are. */
function openDoc<T>(cipher: FieldCipher, kind: string, id: string, doc: T | null): T | null {
  const fields = SEALED_HANDOFF_FIELDS[kind];
  if (!fields || !isDoc(doc)) return doc;
  const out: Doc = { ...doc };
  for (const f of fields) {
    const v = out[f];
    if (isSealed(v)) out[f] = JSON.parse(cipher.open(v, handoffFieldContext(kind, id, f)));
  }
  return out as T;
}

/** Wraps a handoff document store so personal numbers are ciphertext at rest and plain to the service. */
export function protectHandoffDb(db: HandoffDb, cipher: FieldCipher): HandoffDb {
  const getEach = db.getEach?.bind(db);
  return {
    get: async <T>(kind: string, id: string) => openDoc(cipher, kind, id, await db.get<T>(kind, id)),
    ...(getEach ? { getEach: async <T>(refs: Array<[string, string]>) => (await getEach<T>(refs)).map((d, i) => openDoc(cipher, refs[i]![0], refs[i]![1], d)) } : {}),
    put: (kind, id, doc, ttl) => db.put(kind, id, sealDoc(cipher, kind, id, doc), ttl),
    putNew: (kind, id, doc) => db.putNew(kind, id, sealDoc(cipher, kind, id, doc)),
    del: (kind, id) => db.del(kind, id),
    index: (kind, id, score) => db.index(kind, id, score),
    unindex: (kind, id) => db.unindex(kind, id),
    range: (kind, min) => db.range(kind, min),
    incr: (kind, id, ttl) => db.incr(kind, id, ttl),
    push: (kind, id, doc) => db.push(kind, id, doc),
    list: (kind, id) => db.list(kind, id),
    withLock: (key, fn) => db.withLock(key, fn),
    close: () => db.close(),
  };
}
