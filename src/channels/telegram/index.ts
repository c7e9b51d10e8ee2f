import { createHash, timingSafeEqual } from 'node:crypto';
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, GrammyError, type Context } from 'grammy';
import type { InlineKeyboardButton } from 'grammy/types';
import type { FastifyInstance } from 'fastify';
import { AppError, ERRORS, fillMessage, type Live, type Logger, type Message } from '../../core/index.js';
import type { Stores } from '../../store/index.js';
import { KeyedQueue, MAX_USER_TEXT, repliesOf, sendOrOpen, type ChannelInput, type ChannelService } from '../push/index.js';
import type { ChannelAdapter } from '../types.js';
import { CallbackCodec } from './callback-data.js';
import { isTransient, PendingDeliveries } from './pending-delivery.js';
import { renderTelegram, TELEGRAM_MAX_CALLBACK_BYTES, TELEGRAM_MAX_TEXT, type TelegramMessage } from './render.js';

export { renderTelegram, TELEGRAM_MAX_TEXT, TELEGRAM_MAX_CALLBACK_BYTES, type TelegramMessage } from './render.js';
export { CallbackCodec, CALLBACK_KEY_KIND } from './callback-data.js';
export { telegramSettings, type TelegramSettings } from './settings.js';

/** Options of the Telegram channel. */
export interface TelegramChannelOptions {
  service: ChannelService;
  /** The bot token from @BotFather. */
  token: string;
  /** Required in webhook mode: Telegram sends it back in X-Telegram-Bot-Api-Secret-Token. */
  webhookSecret?: string;
  /** Public HTTPS address of POST /telegram/webhook; when set, start() registers it with Telegram. */
  webhookUrl?: string;
  /** Bot API server (default https://api.telegram.org); tests point it at a local fake. */
  apiRoot?: string;
  /** `webhook` in production, `polling` (getUpdates) for development. */
  mode: 'webhook' | 'polling';
  logger: Logger;
  /** The session store keeps long button payloads behind short keys. */
  stores: Pick<Stores, 'sessions'>;
  /** Fills `{hotline}` in error replies (STORE_UNAVAILABLE, INTERNAL), from knowledge/utility.yaml. */
  hotline?: Live<string>;
  /** Longest 429 retry_after honoured, in seconds (default 60); longer waits fail the request. */
  maxRetryDelaySeconds?: number;
}

/** The Telegram adapter, with its bot (for tests and the webhook's set-up). */
export type TelegramChannel = ChannelAdapter<TelegramMessage> & { readonly bot: Bot };

const WEBHOOK_PATH = '/telegram/webhook';
const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
/** getMe at start-up: grammY retries network errors until this signal aborts. */
const INIT_TIMEOUT_MS = 5_000;
const NON_TEXT = '请用文字描述您的问题，我暂时看不懂图片、语音和文件。';
const STALE_BUTTON = '该按钮已失效，请重新提问。';
/** Failures a later retry can fix (the store, or sending the replies): in webhook mode Telegram redelivers the update. */
const RETRYABLE = new Set(['STORE_UNAVAILABLE', 'CONVERSATION_BUSY', 'DELIVERY_FAILED']);

/** `telegram:<chat id>` ↔ chat id. */
const address = (chatId: number | string) => `telegram:${chatId}`;

/** Equal strings in constant time (hashing first hides the length too). */
function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(expected));
}

/** Creates the Telegram channel: webhook route or long polling, inline keyboards, proactive delivery. */
export function createTelegramChannel(opts: TelegramChannelOptions): TelegramChannel {
  if (opts.mode === 'webhook' && !opts.webhookSecret) throw new Error('Telegram webhook mode needs TELEGRAM_WEBHOOK_SECRET');
  const { service, logger } = opts;
  const log = logger.child({ channel: 'telegram' });
  // 60 s per call: above getUpdates' 30 s long poll, far below grammY's 500 s default that would stall a chat's queue.
  const bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot ?? 'https://api.telegram.org', timeoutSeconds: 60 } });
  // Network errors are rethrown: auto-retry would otherwise retry them forever, holding the chat's queue.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: opts.maxRetryDelaySeconds ?? 60, rethrowHttpErrors: true }));
  const codec = new CallbackCodec(opts.stores.sessions);
  const pending = new PendingDeliveries(opts.stores.sessions);
  const queue = new KeyedQueue();
  let init: Promise<void> | undefined;
  const ready = () =>
    (init ??= bot.init(AbortSignal.timeout(INIT_TIMEOUT_MS) as Parameters<Bot['init']>[0]).catch((err: unknown) => {
      init = undefined;
      throw err;
    }));

  /** Sends rendered messages to a chat, in order; the keyboard's long payloads get stored keys. */
  async function deliver(chatId: number | string, messages: Message[]): Promise<void> {
    for (const m of renderTelegram(messages)) {
      const inline_keyboard = m.buttons
        ? await Promise.all(m.buttons.map((row) => Promise.all(row.map(async (b): Promise<InlineKeyboardButton> => ({ text: b.title, callback_data: await codec.encode(b.postback) })))))
        : undefined;
      await bot.api.sendMessage(chatId, m.text, { link_preview_options: { is_disabled: true }, ...(inline_keyboard ? { reply_markup: { inline_keyboard } } : {}) });
    }
  }

  const say = (chatId: number, text: string) => deliver(chatId, [{ seq: 0, from: 'system', at: new Date().toISOString(), text }]);

  /** Sends a turn's replies in order; on a failure worth retrying the rest is marked for the redelivered update. */
  async function deliverTurn(chatId: number, updateId: number, replies: Message[]): Promise<void> {
    for (const m of replies) {
      try {
        await deliver(chatId, [m]);
      } catch (err) {
        if (!isTransient(err)) throw err;
        await pending.mark(updateId, m.seq);
        throw new AppError('DELIVERY_FAILED', undefined, { cause: err });
      }
    }
  }

  /** Runs one user input as a turn; a repeated update_id sends only the replies it could not send before, if any. */
  async function turn(chatId: number, updateId: number, input: ChannelInput): Promise<void> {
    const conversationId = address(chatId);
    const r = await sendOrOpen(service, 'telegram', conversationId, input, `tg:${updateId}`);
    if (!r.duplicate) return deliverTurn(chatId, updateId, repliesOf(r.messages));
    const rest = await pending.take(updateId, repliesOf(r.messages));
    log.debug({ conversationId, updateId, resent: rest.length }, 'repeated update: only what was not sent before is sent');
    if (rest.length) await deliverTurn(chatId, updateId, rest);
  }

  /** /start: the welcome, whether the conversation is new or found again. */
  async function welcome(chatId: number): Promise<void> {
    const conversationId = address(chatId);
    const r = await service.start({ channel: 'telegram', conversationId });
    const messages = r.created ? r.messages : (await service.history(conversationId, 0, 1)).filter((m) => m.from === 'bot');
    await deliver(chatId, repliesOf(messages));
  }

  async function onMessage(ctx: Context): Promise<void> {
    const msg = ctx.message!;
    const chatId = msg.chat.id;
    const text = msg.text ?? msg.caption;
    if (text === undefined) return say(chatId, NON_TEXT);
    if (/^\/start(@\w+)?(\s|$)/.test(text)) return welcome(chatId);
    if ([...text].length > MAX_USER_TEXT) return say(chatId, ERRORS.MESSAGE_TOO_LONG.message);
    await turn(chatId, ctx.update.update_id, { text });
  }

  async function onCallback(ctx: Context): Promise<void> {
    const cq = ctx.callbackQuery!;
    const chatId = cq.message?.chat.id;
    const postback = cq.data ? await codec.decode(cq.data) : null;
    // Answered first, so the button's spinner stops while the turn runs.
    await ctx.answerCallbackQuery(postback ? undefined : { text: STALE_BUTTON }).catch((err: unknown) => log.warn({ err }, 'answerCallbackQuery failed'));
    if (!postback || chatId === undefined) return;
    await turn(chatId, ctx.update.update_id, { postback });
  }

  /** Turn errors: retryable store errors go back to Telegram in webhook mode; everything else gets a polite reply. */
  const guarded = (fn: (ctx: Context) => Promise<void>) => async (ctx: Context) => {
    const chatId = ctx.chat?.id;
    if (chatId === undefined) return;
    await queue.run(String(chatId), async () => {
      try {
        await fn(ctx);
      } catch (err) {
        const code = err instanceof AppError ? err.code : 'INTERNAL';
        if (opts.mode === 'webhook' && RETRYABLE.has(code)) throw err;
        log.error({ err, chatId, updateId: ctx.update.update_id }, 'telegram update failed');
        if (!(err instanceof GrammyError)) await say(chatId, fillMessage(ERRORS[code].message, { hotline: opts.hotline })).catch(() => undefined);
      }
    });
  };

  bot.on('message', guarded(onMessage));
  bot.on('callback_query', guarded(onCallback));
  bot.catch((err) => log.error({ err: err.error, updateId: err.ctx.update.update_id }, 'telegram update failed'));

  return {
    name: 'telegram',
    capabilities: { buttons: true, cards: false, maxPayloadBytes: TELEGRAM_MAX_CALLBACK_BYTES, maxTextChars: TELEGRAM_MAX_TEXT, live: false },
    bot,

    async register(app: FastifyInstance) {
      if (opts.mode !== 'webhook') return;
      const secret = opts.webhookSecret!;
      await app.register(async (scope) => {
        // Every update comes from Telegram's few addresses: a per-IP limit would throttle all users at once; the secret check is first and cheap.
        scope.post(WEBHOOK_PATH, { bodyLimit: 256 * 1024, config: { rateLimit: false } }, async (req, reply) => {
          if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], secret)) {
            throw new AppError('UNAUTHORIZED', 'Telegram 回调密钥不正确');
          }
          const update = req.body as { update_id?: unknown } | null;
          if (!update || typeof update !== 'object' || !Number.isSafeInteger(update.update_id)) throw new AppError('BAD_REQUEST');
          await ready();
          try {
            await bot.handleUpdate(update as Parameters<Bot['handleUpdate']>[0]);
          } catch (err) {
            const cause = (err as { error?: unknown }).error ?? err;
            // Telegram redelivers on a non-2xx answer; the update_id dedupe makes that safe.
            if (cause instanceof AppError && RETRYABLE.has(cause.code)) throw cause;
            log.error({ err: cause }, 'telegram update failed');
          }
          return reply.code(200).send();
        });
      });
    },

    async send(conversationId, messages) {
      if (!conversationId.startsWith('telegram:')) throw new Error(`not a Telegram conversation: ${conversationId}`);
      const chatId = conversationId.slice('telegram:'.length);
      await queue.run(chatId, () => deliver(chatId, messages.filter((m) => m.from !== 'user')));
    },

    render: renderTelegram,

    async start() {
      if (opts.mode === 'polling') {
        void bot
          .start({ allowed_updates: [...ALLOWED_UPDATES], onStart: (me) => log.info({ bot: me.username }, 'telegram long polling started') })
          .catch((err: unknown) => log.error({ err }, 'telegram long polling stopped'));
        return;
      }
      try {
        await ready();
        if (opts.webhookUrl) await bot.api.setWebhook(opts.webhookUrl, { secret_token: opts.webhookSecret, allowed_updates: [...ALLOWED_UPDATES] });
        log.info({ bot: bot.botInfo.username, webhook: opts.webhookUrl ?? '(set elsewhere)' }, 'telegram webhook ready');
      } catch (err) {
        // Telegram unreachable at boot: the webhook route initialises the bot on the first update instead.
        log.warn({ err }, 'telegram not reachable at start; will retry on the first update');
      }
    },

    async stop() {
      if (bot.isRunning()) await bot.stop();
    },
  };
}
