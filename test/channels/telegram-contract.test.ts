import type { FastifyInstance } from 'fastify';
import { createChannelRegistry } from '../../src/channels/registry.js';
import { createTelegramChannel } from '../../src/channels/telegram/index.js';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { FakeTelegramApi, type TelegramCall } from '../fakes/telegram-api.js';
import { channelContract, type Seen } from './contract.js';

const SECRET = 'contract-suite-secret-0123456789';
type Button = { text: string; callback_data: string };
const keyboard = (c: TelegramCall): Button[] => ((c.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();

/** Telegram as a user sees it: updates posted to the webhook, answers read from the fake Bot API. */
channelContract('telegram (webhook + fake Bot API)', async ({ kb, classifier }) => {
  const api = await new FakeTelegramApi().listen();
  const stores = createMemoryStores();
  const logger = createLogger('silent');
  const channels = createChannelRegistry();
  const service = createConversationService({ kb, classifier, stores, logger, channels });
  const adapter = createTelegramChannel({ service, token: api.token, webhookSecret: SECRET, apiRoot: api.url, mode: 'webhook', logger, stores });
  channels.add(adapter);
  const app: FastifyInstance = await buildServer({ service, stores, logger, channels: [adapter] });
  await app.ready();
  const chat = 100_000 + Math.floor(Math.random() * 1e6);
  let update = 1;
  let last: TelegramCall[] = [];

  async function post(body: object): Promise<Seen> {
    const from = api.sent().length;
    const res = await app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': SECRET }, payload: { update_id: ++update, ...body } });
    if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}: ${res.body}`);
    last = api.sent().slice(from);
    return { texts: last.map((c) => String(c.body.text)), buttons: last.flatMap((c) => keyboard(c).map((b) => b.text)), cards: [] };
  }
  const message = (text: string) => ({ message: { message_id: update, date: 1_790_000_000, chat: { id: chat, type: 'private' }, from: { id: chat, is_bot: false, first_name: '测试' }, text } });

  return {
    adapter,
    service,
    say: (text) => post(message(text)),
    press(title) {
      const button = last.flatMap(keyboard).find((b) => title.test(b.text));
      if (!button) throw new Error(`no button ${title}`);
      return post({ callback_query: { id: `cq${update}`, chat_instance: 'ci', data: button.callback_data, from: { id: chat, is_bot: false, first_name: '测试' }, message: { message_id: 1, date: 1_790_000_000, chat: { id: chat, type: 'private' }, text: '…' } } });
    },
    conversationId: () => `telegram:${chat}`,
    async received(match) {
      const from = api.sent().length;
      const deadline = Date.now() + 5000;
      for (;;) {
        const hit = api.sent().slice(from).find((c) => match.test(String(c.body.text)));
        if (hit) return String(hit.body.text);
        if (Date.now() > deadline) throw new Error(`no Telegram message matching ${match}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await app.close();
      await api.close();
    },
  };
});
