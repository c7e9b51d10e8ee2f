import { createHmac, timingSafeEqual } from 'node:crypto';

/** Seconds a signed request stays acceptable either side of our clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Hex HMAC-SHA256 of `<timestamp>.<body>` under the shared secret. */
export function sign(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The headers of a signed request: X-Timestamp (unix seconds) and X-Signature. */
export function signedHeaders(secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { 'x-timestamp': timestamp, 'x-signature': sign(secret, timestamp, body) };
}

/** Why a signature was refused, or null when it is good. */
export function checkSignature(secret: string, body: string, timestamp: unknown, signature: unknown, nowMs = Date.now(), toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS): string | null {
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return 'missing or malformed X-Timestamp';
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/i.test(signature)) return 'missing or malformed X-Signature';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return 'stale X-Timestamp';
  const expected = Buffer.from(sign(secret, timestamp, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature.toLowerCase(), 'hex')) ? null : 'signature mismatch';
}
