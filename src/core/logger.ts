import { pino, type DestinationStream, type Logger } from 'pino';
import { createMasker, type Masker } from './mask.js';

export type { Logger };

/** Masks the strings of plain objects and arrays; other values (errors, numbers, dates) pass unchanged. */
function maskDeep(value: unknown, mask: Masker, depth = 0): unknown {
  if (typeof value === 'string') return mask(value);
  if (depth > 6 || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, mask, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, mask, depth + 1)]));
}

/**
 * Creates the process logger; silent under tests unless LOG_LEVEL is set. Personal numbers (身份证, USCC,
 * mobile, and 户号 when `mask` knows the utility's format) are masked in every message and field.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'), opts: { mask?: Masker; destination?: DestinationStream } = {}): Logger {
  const mask = opts.mask ?? createMasker();
  return pino(
    {
      level,
      base: undefined,
      formatters: { log: (obj) => maskDeep(obj, mask) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? mask(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    opts.destination,
  );
}
