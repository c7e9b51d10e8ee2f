import { pino, type Logger } from 'pino';

export type { Logger };

/** Creates the process logger; silent under tests unless LOG_LEVEL is set. */
export function createLogger(level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino({ level, base: undefined });
}
