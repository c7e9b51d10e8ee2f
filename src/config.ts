import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** NLU_WORKERS=auto: one classifier thread beside the event loop when there is a core for it (more measured no gain: the event loop is then the busy thread). */
export function autoWorkers(cores: number): number {
  return cores > 1 ? 1 : 0;
}

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().regex(/^[\w-]+$/).default('wsa'),
  SESSION_TTL_SECONDS: z.coerce.number().int().positive().default(7 * 86_400),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KNOWLEDGE_DIR: z.string().default('knowledge'),
  FLOWS_DIR: z.string().default('flows'),
  EMBEDDING_MODEL: z.string().optional(),
  EMBEDDING_ALLOW_DOWNLOAD: bool.default(false),
  EMBEDDING_CACHE_DIR: z.string().default('.cache/embeddings'),
  RATE_LIMIT_MAX: z.coerce.number().int().positive().default(120),
  /** Classifier worker threads (0: classify on the event loop); `auto`: one where the machine has a second core. */
  NLU_WORKERS: z
    .union([z.literal('auto'), z.coerce.number().int().min(0).max(16)])
    .default('auto')
    .transform((v) => (v === 'auto' ? autoWorkers(availableParallelism()) : v)),

  // ---- channels: widget, Telegram, WeChat (issue 8); add this area's variables below this line
  /** Sites that may embed the widget: `*`, or comma-separated origins; unset: the server's own origin only. */
  WIDGET_ALLOWED_ORIGINS: z
    .string()
    .refine((v) => v.trim() === '*' || v.split(',').every((o) => !o.trim() || /^https?:\/\/[^/\s]+$/.test(o.trim())), 'must be * or comma-separated origins like https://www.example.com (no path)')
    .optional(),
  TELEGRAM_BOT_TOKEN: z.string().regex(/^\d+:[\w-]+$/, 'a bot token from @BotFather: <digits>:<secret>').optional(),
  TELEGRAM_WEBHOOK_SECRET: z.string().regex(/^[\w-]{16,256}$/, '16-256 of A-Z a-z 0-9 _ -').optional(),
  TELEGRAM_MODE: z.enum(['webhook', 'polling']).default('webhook'),
  TELEGRAM_API_ROOT: z.string().url().optional(),
  TELEGRAM_WEBHOOK_URL: z.string().url().startsWith('https://').optional(),
  WECHAT_TOKEN: z.string().regex(/^[A-Za-z0-9]{3,32}$/, '3-32 letters or digits').optional(),
  WECHAT_APP_ID: z.string().min(1).optional(),
  WECHAT_APP_SECRET: z.string().min(1).optional(),
  WECHAT_ENCODING_AES_KEY: z.string().regex(/^[A-Za-z0-9+/]{43}$/, '43 characters of base64').optional(),
  WECHAT_API_BASE: z.string().url().optional(),

  // ---- stores, faults and personal data (issue 9); add this area's variables below this line
  /** Embedded backend when REDIS_URL is unset: sqlite (durable default) or memory (tests). */
  STORE: z.enum(['sqlite', 'memory']).default('sqlite'),
  /** Where the SQLite file and the development data key live. */
  DATA_DIR: z.string().default('.data'),
  /** Redis connect and command timeout; a hung Redis fails requests after this. */
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** Conversation lock lease: a crashed holder blocks its conversation at most this long. */
  LOCK_LEASE_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  /** Memory backend only: conversations kept before the least recently written are evicted. */
  MEMORY_MAX_CONVERSATIONS: z.coerce.number().int().positive().default(10_000),
  /** AES-256-GCM key for personal data at rest, base64 of 32 bytes; required under NODE_ENV=production. */
  DATA_KEY: z.string().optional(),
  /** Earlier data keys (comma-separated base64) that still decrypt older records. */
  DATA_KEYS_OLD: z.string().optional(),
  NODE_ENV: z.string().default('development'),
  /** Days an application record is kept after submission. */
  APPLICATION_RETENTION_DAYS: z.coerce.number().positive().default(365),
  /** Days a transcript is kept after its last message. */
  TRANSCRIPT_RETENTION_DAYS: z.coerce.number().positive().default(7),
  /** How often the retention purge runs. */
  PURGE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  /** Wrong mobiles per reference number before the lookup locks, and for how long. */
  LOOKUP_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  LOOKUP_LOCK_MINUTES: z.coerce.number().positive().default(15),
  /** Minutes an unfinished flow may sit idle before its raw answers are dropped from the session. */
  FLOW_ABANDON_MINUTES: z.coerce.number().positive().default(60),
  /** Fastify trustProxy: `true`, `false`, a hop count, or comma-separated addresses/CIDRs of your reverse proxies. */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | number | string[] => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v.split(',').map((s) => s.trim()).filter(Boolean))),

  // ---- handoff and agent console (issue 10); add this area's variables below this line
  /** Longest wait in the queue before the user is offered a callback ticket, in seconds. */
  HANDOFF_MAX_WAIT_S: z.coerce.number().int().min(10).default(300),
  /** How long a claimed conversation survives its agent's console being disconnected, in seconds. */
  HANDOFF_CLAIM_GRACE_S: z.coerce.number().int().min(1).default(60),
  /** Average handling time of one conversation, for the estimated wait told to users, in seconds. */
  HANDOFF_AVG_HANDLE_S: z.coerce.number().int().min(10).default(240),
  /** Embedded mode (no REDIS_URL): folder of the handoff's SQLite files (handoffs, agents, callbacks). */
  HANDOFF_DATA_DIR: z.string().default('.data'),
  /** Key material of the console's session cookie, at least 32 characters; unset: generated once and kept in the store. */
  AGENT_SESSION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** Console session lifetime, in seconds (a shift by default). */
  AGENT_SESSION_TTL_S: z.coerce.number().int().min(60).default(12 * 3600),
  /** Send the console cookie over HTTPS only (set true behind TLS). */
  AGENT_COOKIE_SECURE: bool.default(false),
  /** Console login attempts per minute per client address. */
  AGENT_LOGIN_RATE_MAX: z.coerce.number().int().min(1).default(10),

  // ---- operations: metrics, back office (issue 11); add this area's variables below this line
  /** Bearer token that /metrics on the main port requires; unset with METRICS_PORT unset: /metrics is not served. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** Serve /metrics on this internal port instead of the public one (not routed by the reverse proxy). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address the metrics port binds. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** On SIGTERM, how long in-flight turns and shutdown hooks may take before the process exits anyway. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /** On SIGTERM, how long /readyz answers 503 while requests are still served, before the listener closes (longer than the proxy's health interval). */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /** Watch knowledge/ and flows/ and swap in a valid edit without a restart. */
  KNOWLEDGE_WATCH: bool.default(true),
  /** Quiet time after the last file change before a reload runs. */
  KNOWLEDGE_RELOAD_DEBOUNCE_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** The utility's business system: outbox entries (applications, callbacks, handoff outcomes) are POSTed here, signed. */
  BACKOFFICE_WEBHOOK_URL: z.string().url().optional(),
  /** HMAC-SHA256 secret shared with the back office: signs what we send and checks its status updates. */
  BACKOFFICE_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** Failed deliveries of one entry before it goes to the dead-letter list. */
  BACKOFFICE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  /** First retry delay; it doubles per attempt (with jitter) up to 10 minutes. */
  BACKOFFICE_RETRY_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(2_000),

});

/** Every environment variable the configuration reads (deployment files are checked against it). */
export const CONFIG_NAMES: readonly string[] = Object.keys(schema.shape);

/** Typed, validated configuration from the environment. */
export type Config = z.infer<typeof schema>;

/** Reads the configuration; throws a readable error naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const r = schema.safeParse(clean);
  if (!r.success) throw new Error(`invalid configuration:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return r.data;
}
