import type { CommitPoint, StoreOptions } from './types.js';

const DAY_MS = 86_400_000;

/** Store options with every default filled in, in milliseconds. */
export interface ResolvedOptions {
  prefix: string;
  ttlMs: number;
  transcriptTtlMs: number;
  applicationRetentionMs: number;
  lockTimeoutMs: number;
  lockLeaseMs: number;
  sweepIntervalMs: number;
  maxConversations: number;
  attemptsMax: number;
  attemptsLockMs: number;
  maxEvents: number;
  faultHook?: (point: CommitPoint) => void;
}

/** Fills in the defaults: 7-day TTL, 365-day application retention, 10 s lock wait, 3 s lease, 60 s sweeps, 10,000 memory conversations, 5 failures → 15 min. */
export function resolveOptions(o: StoreOptions): ResolvedOptions {
  const ttlMs = (o.ttlSeconds ?? 7 * 86_400) * 1000;
  return {
    prefix: o.prefix ?? 'wsa',
    ttlMs,
    transcriptTtlMs: o.transcriptTtlSeconds !== undefined ? o.transcriptTtlSeconds * 1000 : ttlMs,
    applicationRetentionMs: (o.applicationRetentionDays ?? 365) * DAY_MS,
    lockTimeoutMs: o.lockTimeoutMs ?? 10_000,
    lockLeaseMs: o.lockLeaseMs ?? 3_000,
    sweepIntervalMs: o.sweepIntervalMs ?? 60_000,
    maxConversations: o.maxConversations ?? 10_000,
    attemptsMax: o.attempts?.max ?? 5,
    attemptsLockMs: o.attempts?.lockMs ?? 15 * 60_000,
    maxEvents: o.maxEvents ?? 1_000_000,
    ...(o.faultHook ? { faultHook: o.faultHook } : {}),
  };
}
