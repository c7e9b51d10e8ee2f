import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { ConversationService } from '../conversation/index.js';
import type { Logger } from '../core/index.js';
import type { Stores } from '../store/index.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';
import { backofficeRoutes } from './routes.js';

type BackofficeConfig = Pick<Config, 'BACKOFFICE_WEBHOOK_URL' | 'BACKOFFICE_SECRET' | 'BACKOFFICE_MAX_ATTEMPTS' | 'BACKOFFICE_RETRY_BASE_MS'>;

/**
 * Registers the back-office routes the configuration allows and builds the dispatcher when BACKOFFICE_WEBHOOK_URL is set
 * (start it after listen, stop it at shutdown). A webhook URL without BACKOFFICE_SECRET is refused at start.
 */
export async function mountBackoffice(app: FastifyInstance, o: { config: BackofficeConfig; stores: Stores; service: ConversationService; logger: Logger }): Promise<Dispatcher | undefined> {
  const c = o.config;
  if (c.BACKOFFICE_WEBHOOK_URL && !c.BACKOFFICE_SECRET) throw new Error('invalid configuration:\n  BACKOFFICE_SECRET: required when BACKOFFICE_WEBHOOK_URL is set (deliveries are signed)');
  await app.register(backofficeRoutes, { stores: o.stores, service: o.service, logger: o.logger, secret: c.BACKOFFICE_SECRET });
  if (!c.BACKOFFICE_WEBHOOK_URL) {
    o.logger.info('back office off: set BACKOFFICE_WEBHOOK_URL and BACKOFFICE_SECRET to hand applications over (they wait in the outbox)');
    return undefined;
  }
  return createDispatcher({ outbox: o.stores.outbox, applications: o.stores.applications, logger: o.logger, url: c.BACKOFFICE_WEBHOOK_URL, secret: c.BACKOFFICE_SECRET!, maxAttempts: c.BACKOFFICE_MAX_ATTEMPTS, baseDelayMs: c.BACKOFFICE_RETRY_BASE_MS });
}
