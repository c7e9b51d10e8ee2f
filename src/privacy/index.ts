export { createFieldCipher, isSealed, keyIdOf, SEALED_PREFIX, sealedKeyId, type FieldCipher } from './cipher.js';
export { loadFieldCipher, type DataKeyOptions } from './keys.js';
export { sealApplication, openApplication, sealSession, openSession } from './seal.js';
export { createSessionSealer, type SessionSealer } from './session-sealer.js';
