import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, fillMessage, type Live, type Logger, type Message, type QuickReply } from '../../core/index.js';
import type { Stores } from '../../store/index.js';
import { pickNumbered } from '../render-text.js';
import { KeyedQueue, MAX_USER_TEXT, repliesOf, sendOrOpen, type ChannelInput, type ChannelService } from '../push/index.js';
import type { ChannelAdapter } from '../types.js';
import { WechatApi } from './api.js';
import { verifySignature, wechatSignature, WechatCrypto, WechatCryptoError } from './crypto.js';
import { menuOf, renderWechat, WECHAT_MAX_TEXT_CHARS } from './render.js';
import { buildXml, parseWechatXml, WechatXmlError, type WechatFields } from './xml.js';

export { WechatApi, WechatApiError, TOKEN_REFRESH_MARGIN_MS } from './api.js';
export { WechatCrypto, WechatCryptoError, verifySignature, wechatSignature } from './crypto.js';
export { renderWechat, WECHAT_MAX_TEXT_BYTES, WECHAT_MAX_TEXT_CHARS } from './render.js';
export { buildXml, cdata, parseWechatXml, WechatXmlError } from './xml.js';
export { wechatSettings, type WechatSettings } from './settings.js';

/** Options of the WeChat Official Account channel. */
export interface WechatChannelOptions {
  service: ChannelService;
  /** The Token set in the account's server configuration (服务器配置). */
  token: string;
  appId: string;
  /** Needed for the 客服消息 API: slow turns and proactive messages. */
  appSecret?: string;
  /** 安全模式: the 43-character EncodingAESKey. */
  encodingAESKey?: string;
  /** https://api.weixin.qq.com by default. */
  apiBase?: string;
  logger: Logger;
  /** The session store keeps the last numbered menu per user and the shared access_token. */
  stores: Pick<Stores, 'sessions'>;
  /** Fills `{hotline}` in error replies (STORE_UNAVAILABLE, INTERNAL), from knowledge/utility.yaml. */
  hotline?: Live<string>;
  /** Time a turn may take before the passive reply gives up for the 客服消息 API, ms (default 4,500 of WeChat's 5 s). */
  replyBudgetMs?: number;
  /** Oldest (or furthest ahead) request timestamp accepted, in seconds (default 300): replayed signatures fail. */
  maxClockSkewSeconds?: number;
  /** Clock for the access_token cache (tests). */
  now?: () => number;
}

/** The WeChat adapter, with its API client (tests). */
export type WechatChannel = ChannelAdapter<string> & { readonly api?: WechatApi };

const PATH = '/wechat';
const BODY_LIMIT = 32 * 1024;
const MENU_KIND = 'wxmenu';
const NEEDS_TEXT = '请用文字描述您的问题，我暂时看不懂图片、视频和文件。';
const VOICE_NEEDS_TEXT = '抱歉，没能识别这条语音，请用文字描述您的问题。';
const OPENID = /^[\w-]{1,64}$/;

/** What a push asks for. */
type Action = { kind: 'turn'; input: ChannelInput; clientMessageId: string } | { kind: 'welcome' } | { kind: 'say'; text: string } | { kind: 'ignore' };

/** Maps a parsed push to what the assistant does with it. */
function actionOf(f: WechatFields): Action {
  const openid = f.FromUserName!;
  switch (f.MsgType) {
    case 'text':
      return f.Content ? { kind: 'turn', input: { text: f.Content }, clientMessageId: `wx:${f.MsgId ?? `${openid}:${f.CreateTime}`}` } : { kind: 'say', text: NEEDS_TEXT };
    case 'voice':
      return f.Recognition?.trim() ? { kind: 'turn', input: { text: f.Recognition.trim() }, clientMessageId: `wx:${f.MsgId ?? `${openid}:${f.CreateTime}`}` } : { kind: 'say', text: VOICE_NEEDS_TEXT };
    case 'event': {
      const event = (f.Event ?? '').toLowerCase();
      if (event === 'subscribe') return { kind: 'welcome' };
      if (event === 'click' && f.EventKey) return { kind: 'turn', input: { postback: f.EventKey }, clientMessageId: `wx:${openid}:${f.CreateTime}` };
      return { kind: 'ignore' };
    }
    default:
      return { kind: 'say', text: NEEDS_TEXT };
  }
}

const system = (text: string): Message => ({ seq: 0, from: 'system', at: new Date().toISOString(), text });
const single = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Creates the WeChat channel: server URL check, plain and 安全模式 messages, the 5-second rule, 客服消息. */
export function createWechatChannel(opts: WechatChannelOptions): WechatChannel {
  const { service, token, appId } = opts;
  const log = opts.logger.child({ channel: 'wechat' });
  const crypto = opts.encodingAESKey ? new WechatCrypto(opts.encodingAESKey, appId) : undefined;
  const api = opts.appSecret ? new WechatApi({ appId, appSecret: opts.appSecret, apiBase: opts.apiBase, logger: opts.logger, sessions: opts.stores.sessions, now: opts.now }) : undefined;
  const sessions = opts.stores.sessions;
  const budget = opts.replyBudgetMs ?? 4500;
  const maxSkew = opts.maxClockSkewSeconds ?? 300;
  const queue = new KeyedQueue();

  const menuKey = (openid: string) => `${MENU_KIND}:${openid}`;
  async function loadMenu(openid: string): Promise<QuickReply[]> {
    const rec = await sessions.get<{ menu?: QuickReply[] }>(menuKey(openid));
    return Array.isArray(rec?.state.menu) ? rec.state.menu : [];
  }
  /** Keeps the buttons a number now answers; replies without buttons make older numbers stale. */
  async function saveMenu(openid: string, messages: Message[]): Promise<void> {
    const menu = menuOf(messages);
    if (menu.length) await sessions.set(menuKey(openid), { schemaVersion: 1, state: { menu }, updatedAt: new Date().toISOString() });
    else await sessions.delete(menuKey(openid));
  }

  /** Runs one push and renders what to say; a retried MsgId gets the stored replies again (WeChat never saw them). */
  async function handle(f: WechatFields): Promise<string[]> {
    const openid = f.FromUserName!;
    const conversationId = `wechat:${openid}`;
    const action = actionOf(f);
    if (action.kind === 'ignore') return [];
    if (action.kind === 'say') return renderWechat([system(action.text)]);
    let replies: Message[];
    if (action.kind === 'welcome') {
      const r = await service.start({ channel: 'wechat', conversationId });
      replies = r.created ? r.messages : (await service.history(conversationId, 0, 1)).filter((m) => m.from === 'bot');
    } else {
      let input = action.input;
      if ('text' in input) {
        if ([...input.text].length > MAX_USER_TEXT) return renderWechat([system(ERRORS.MESSAGE_TOO_LONG.message)]);
        const picked = pickNumbered(input.text, await loadMenu(openid));
        if (picked) input = { postback: picked };
      }
      replies = repliesOf((await sendOrOpen(service, 'wechat', conversationId, input, action.clientMessageId)).messages);
    }
    await saveMenu(openid, replies);
    return renderWechat(replies);
  }

  /** The turn's parts, with errors turned into a polite text. */
  const answer = (f: WechatFields) =>
    handle(f).catch((err: unknown) => {
      log.error({ err, openid: f.FromUserName, msgType: f.MsgType }, 'wechat message failed');
      return renderWechat([system(fillMessage(ERRORS[err instanceof AppError ? err.code : 'INTERNAL'].message, { hotline: opts.hotline }))]);
    });

  /** Sends parts through the 客服消息 API, in order. */
  async function push(openid: string, parts: string[]): Promise<void> {
    if (!parts.length) return;
    if (!api) throw new Error('WeChat proactive messages need WECHAT_APP_SECRET');
    for (const p of parts) await api.sendText(openid, p);
  }

  /**
   * Runs a push in the user's queue and settles the 5-second rule: `passive` resolves with the parts when they are
   * ready within the budget (the first goes in the HTTP answer), or null when the budget ran out. Whatever the
   * answer cannot carry is pushed through 客服消息 before the user's next message runs, so the order holds.
   */
  function settle(f: WechatFields): Promise<string[] | null> {
    const openid = f.FromUserName!;
    let ready!: (parts: string[]) => void;
    const parts = new Promise<string[]>((r) => (ready = r));
    // Without the 客服消息 API the answer can only be passive: wait, and WeChat's retry of this MsgId gets the stored replies.
    const decision: Promise<string[] | null> = api ? Promise.race([parts, sleep(budget, null, { ref: false })]) : parts;
    void queue.run(openid, async () => {
      const out = await answer(f);
      ready(out);
      const passive = await decision;
      const rest = passive ? out.slice(1) : out;
      if (passive === null) log.info({ openid, budgetMs: budget }, 'turn slower than the reply window: answered through 客服消息');
      if (!rest.length) return;
      if (!api) return log.warn({ openid, dropped: rest.length }, 'reply longer than one WeChat message and no WECHAT_APP_SECRET to send the rest');
      await push(openid, rest).catch((err: unknown) => log.error({ err, openid }, 'wechat 客服消息 delivery failed'));
    });
    return decision;
  }

  /** The passive reply XML for one text, encrypted in 安全模式. */
  function passive(f: WechatFields, content: string, encrypted: boolean): string {
    const now = Math.floor(Date.now() / 1000);
    const xml = buildXml({ ToUserName: f.FromUserName!, FromUserName: f.ToUserName ?? '', CreateTime: now, MsgType: 'text', Content: content });
    if (!encrypted || !crypto) return xml;
    const enc = crypto.encrypt(xml);
    const nonce = String(Math.floor(Math.random() * 1e10));
    return buildXml({ Encrypt: enc, MsgSignature: wechatSignature(token, String(now), nonce, enc), TimeStamp: now, Nonce: nonce });
  }

  /** Reads and authenticates a POST body: the message's fields and whether it came encrypted. */
  function readPush(req: FastifyRequest): { fields: WechatFields; encrypted: boolean } {
    const q = req.query as Record<string, unknown>;
    const [timestamp, nonce] = [single(q.timestamp), single(q.nonce)];
    if (!timestamp || !nonce || !verifySignature(q.signature, token, timestamp, nonce)) throw new AppError('UNAUTHORIZED', '微信签名校验失败');
    // In plain mode the signature does not cover the body: a stale timestamp is a replayed signature.
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > maxSkew) throw new AppError('UNAUTHORIZED', '微信请求已过期');
    const body = typeof req.body === 'string' ? req.body : '';
    let fields = parseWechatXml(body);
    const encrypted = q.encrypt_type === 'aes';
    if (encrypted) {
      if (!crypto) throw new AppError('BAD_REQUEST', '未配置 EncodingAESKey，无法解密安全模式消息');
      const enc = fields.Encrypt;
      if (!enc) throw new AppError('BAD_REQUEST', '安全模式消息缺少 Encrypt');
      if (!verifySignature(q.msg_signature, token, timestamp, nonce, enc)) throw new AppError('UNAUTHORIZED', '微信消息签名校验失败');
      fields = parseWechatXml(crypto.decrypt(enc));
    }
    if (!fields.FromUserName || !OPENID.test(fields.FromUserName) || !fields.MsgType) throw new AppError('BAD_REQUEST', '不是微信消息');
    return { fields, encrypted };
  }

  async function onPush(req: FastifyRequest, reply: FastifyReply) {
    const { fields, encrypted } = readPush(req);
    const parts = await settle(fields);
    if (!parts?.length) return reply.type('text/plain').send('success');
    return reply.type('application/xml; charset=utf-8').send(passive(fields, parts[0]!, encrypted));
  }

  return {
    name: 'wechat',
    capabilities: { buttons: false, cards: false, maxPayloadBytes: 0, maxTextChars: WECHAT_MAX_TEXT_CHARS, replyWindowMs: 5000, live: false },
    api,

    async register(app: FastifyInstance) {
      await app.register(async (scope) => {
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
        scope.setErrorHandler((err, _req, reply) => {
          if (err instanceof WechatXmlError || err instanceof WechatCryptoError) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
          const status = (err as { statusCode?: number }).statusCode;
          if (!(err instanceof AppError) && status && status >= 400 && status < 500) return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: ERRORS.BAD_REQUEST.message } });
          throw err;
        });
        // Every push comes from WeChat's few addresses: a per-IP limit would throttle all users at once; the signature check is first and cheap.
        const config = { rateLimit: false } as const;
        scope.get(PATH, { config }, async (req, reply) => {
          const q = req.query as Record<string, unknown>;
          const [timestamp, nonce, echostr] = [single(q.timestamp), single(q.nonce), single(q.echostr)];
          if (!timestamp || !nonce || echostr === undefined) throw new AppError('BAD_REQUEST', '缺少 signature、timestamp、nonce 或 echostr');
          if (!verifySignature(q.signature, token, timestamp, nonce)) throw new AppError('UNAUTHORIZED', '微信签名校验失败');
          return reply.type('text/plain').send(echostr);
        });
        scope.post(PATH, { config }, onPush);
      });
    },

    async send(conversationId, messages) {
      if (!conversationId.startsWith('wechat:')) throw new Error(`not a WeChat conversation: ${conversationId}`);
      const openid = conversationId.slice('wechat:'.length);
      const out = messages.filter((m) => m.from !== 'user');
      await queue.run(openid, async () => {
        if (out.some((m) => m.quickReplies?.length)) await saveMenu(openid, out);
        await push(openid, renderWechat(out));
      });
    },

    render: renderWechat,
  };
}
