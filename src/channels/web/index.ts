import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { AppError, type Reply } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';
import type { MessageBus } from '../../delivery/types.js';
import type { Utility } from '../../knowledge/index.js';
import type { ChannelAdapter, ChannelCapabilities } from '../types.js';
import { utilityOf, widgetAssets } from './assets.js';
import { LongPolls } from './long-poll.js';
import { originAllowed, type AllowedOrigins } from './origins.js';
import { conversationRoutes } from './routes.js';
import { socketRoute } from './socket.js';

export { parseAllowedOrigins, originAllowed, type AllowedOrigins } from './origins.js';
export { MAX_TEXT, bearerToken, authorizeConversation } from './routes.js';
export type { ServerEvent } from './socket.js';

/** Options of the web channel (REST API, widget socket, demo page). */
export interface WebChannelOptions {
  service: ConversationService;
  /** Live delivery to sockets and long polls; without it, sockets get only their own replies and polls re-read every second. */
  bus?: MessageBus;
  /** Sites allowed to call the API from a browser (CORS, socket Origin); the server's own origin always is. */
  allowedOrigins?: AllowedOrigins;
  /** The utility the demo page shows (a function: the one in use after a knowledge reload); without it no demo page or widget bundle is served. */
  utility?: Utility | (() => Utility);
  /** The widget folder (dist/widget.js, demo/demo.css). */
  widgetDir?: string;
}

/** What the widget shows: buttons and cards natively; the widget renders the core JSON itself. */
export const WEB_CAPABILITIES: ChannelCapabilities = { buttons: true, cards: true, maxPayloadBytes: 200, maxTextChars: 4000, live: true };

/** The web channel: conversation REST routes with long polling, the widget WebSocket, the demo page and widget bundle. */
export function createWebChannel(opts: WebChannelOptions): ChannelAdapter<Reply> {
  const allowed = opts.allowedOrigins ?? [];
  const waits = new LongPolls();
  return {
    name: 'web',
    capabilities: WEB_CAPABILITIES,
    render: (replies) => replies,
    // A live channel: sockets and long polls get messages from the bus, so there is nothing to push.
    async send() {},
    async register(app: FastifyInstance) {
      await app.register(async (web) => {
        if (opts.utility) await web.register(widgetAssets, { utility: opts.utility, ...(opts.widgetDir ? { widgetDir: opts.widgetDir } : {}) });
        await web.register(async (api) => {
          api.addHook('onRequest', async (req) => {
            if (!originAllowed(req, allowed)) throw new AppError('ORIGIN_NOT_ALLOWED');
          });
          await api.register(cors, {
            hook: 'onRequest',
            origin: true,
            methods: ['GET', 'POST'],
            allowedHeaders: ['Content-Type', 'Authorization'],
            maxAge: 600,
          });
          api.addHook('preClose', async () => waits.closeAll());
          await api.register(conversationRoutes, { service: opts.service, bus: opts.bus, waits });
          await socketRoute(api, { service: opts.service, bus: opts.bus, check: () => {}, hotline: hotlineOf(opts.utility) });
        });
      });
    },
  };
}

/** The hotline of the utility in use, asked at each error (undefined: the error messages leave it out). */
function hotlineOf(utility: WebChannelOptions['utility']): (() => string) | undefined {
  return utility ? () => utilityOf(utility).hotline : undefined;
}
