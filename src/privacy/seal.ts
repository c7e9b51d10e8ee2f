import type { Application } from '../core/index.js';
import type { SessionRecord } from '../store/types.js';
import { isSealed, type FieldCipher } from './cipher.js';

/** The one answers key an application's sealed answers are stored under (outbox payloads use it too). */
export const SEALED_FIELD = '$sealed';
const SEALED_ANSWERS = SEALED_FIELD;

/** What an application's sealed answers and mobile are bound to: its reference. */
export const answersContext = (ref: string): string => `application.answers:${ref}`;
/** See answersContext. */
export const mobileContext = (ref: string): string => `application.mobile:${ref}`;

/**
 * Seals an application's personal fields: every answer (身份证号, USCC, mobile, 户号, names, addresses) as one
 * ciphertext, and `mobile`. Display rows stay as they are (already masked); the rest is not personal.
 */
export function sealApplication(app: Application, cipher: FieldCipher): Application {
  if (isSealed(app.mobile)) return app;
  return {
    ...app,
    answers: { [SEALED_ANSWERS]: cipher.seal(JSON.stringify(app.answers), answersContext(app.ref)) },
    mobile: cipher.seal(app.mobile, mobileContext(app.ref)),
  };
}

/** Opens what `sealApplication` sealed; plain records (written before encryption) pass through. */
export function openApplication(app: Application, cipher: FieldCipher): Application {
  const answers = app.answers[SEALED_ANSWERS];
  return {
    ...app,
    answers: isSealed(answers) ? (JSON.parse(cipher.open(answers, answersContext(app.ref))) as Application['answers']) : app.answers,
    mobile: isSealed(app.mobile) ? cipher.open(app.mobile, mobileContext(app.ref)) : app.mobile,
  };
}

/** What a session's ciphertext is bound to: its conversation. */
export const sessionContext = (id: string): string => `session:${id}`;

/** Seals a whole session state: mid-flow it holds the raw answers. */
export function sealSession(id: string, record: SessionRecord, cipher: FieldCipher): SessionRecord<string> {
  return { ...record, state: cipher.seal(JSON.stringify(record.state), sessionContext(id)) };
}

/** Opens a sealed session state; plain ones pass through. */
export function openSession<S>(id: string, record: SessionRecord<unknown>, cipher: FieldCipher): SessionRecord<S> {
  return isSealed(record.state) ? { ...record, state: JSON.parse(cipher.open(record.state, sessionContext(id))) as S } : (record as SessionRecord<S>);
}
