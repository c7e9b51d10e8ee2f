import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** WeChat's signature: SHA-1 of the parts sorted and joined (token, timestamp, nonce[, Encrypt]). */
export function wechatSignature(...parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

/** True when `given` is the signature of `parts`, compared in constant time. */
export function verifySignature(given: unknown, ...parts: string[]): boolean {
  if (typeof given !== 'string' || !/^[0-9a-f]{40}$/i.test(given)) return false;
  return timingSafeEqual(Buffer.from(given.toLowerCase(), 'hex'), Buffer.from(wechatSignature(...parts), 'hex'));
}

/** 安全模式 pads to 32-byte blocks (PKCS#7 with k = 32), not AES's 16. */
const BLOCK = 32;

/** Thrown for a message that does not decrypt to a well-formed payload of this app. */
export class WechatCryptoError extends Error {
  override readonly name = 'WechatCryptoError';
}

/**
 * The message crypto of WeChat's 安全模式: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = the key's
 * first 16 bytes, plaintext = 16 random bytes ‖ 4-byte big-endian length ‖ message ‖ AppID, PKCS#7 padding
 * to 32-byte blocks.
 */
export class WechatCrypto {
  private readonly key: Buffer;
  private readonly iv: Buffer;

  constructor(encodingAESKey: string, private readonly appId: string) {
    if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAESKey)) throw new Error('WECHAT_ENCODING_AES_KEY must be 43 characters of base64');
    this.key = Buffer.from(`${encodingAESKey}=`, 'base64');
    if (this.key.length !== 32) throw new Error('WECHAT_ENCODING_AES_KEY does not decode to 32 bytes');
    this.iv = this.key.subarray(0, 16);
  }

  /** Encrypts a reply for this app; base64 text for the Encrypt element. */
  encrypt(message: string, random: Buffer = randomBytes(16)): string {
    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const plain = Buffer.concat([random, length, body, Buffer.from(this.appId, 'utf8')]);
    const pad = BLOCK - (plain.length % BLOCK);
    const cipher = createCipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
  }

  /** Decrypts an Encrypt element; throws WechatCryptoError when it is malformed or for another AppID. */
  decrypt(encrypted: string): string {
    const data = Buffer.from(encrypted, 'base64');
    if (!data.length || data.length % 16 !== 0) throw new WechatCryptoError('ciphertext is not whole AES blocks');
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
      plain = Buffer.concat([decipher.update(data), decipher.final()]);
    } catch (err) {
      throw new WechatCryptoError('AES decryption failed', { cause: err });
    }
    const pad = plain[plain.length - 1]!;
    if (pad < 1 || pad > BLOCK || pad > plain.length || !plain.subarray(plain.length - pad).every((b) => b === pad)) throw new WechatCryptoError('bad padding');
    const content = plain.subarray(16, plain.length - pad);
    if (content.length < 4) throw new WechatCryptoError('payload too short');
    const length = content.readUInt32BE(0);
    if (4 + length > content.length) throw new WechatCryptoError('length past the payload');
    const appId = content.subarray(4 + length).toString('utf8');
    if (appId !== this.appId) throw new WechatCryptoError('message for another AppID');
    return content.subarray(4, 4 + length).toString('utf8');
  }
}
