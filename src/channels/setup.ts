import type { Config } from '../config.js';
import type { ConversationService } from '../conversation/index.js';
import type { Logger } from '../core/index.js';
import type { MessageBus } from '../delivery/types.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Stores } from '../store/index.js';
import type { ChannelRegistry } from './registry.js';
import { createTelegramChannel, telegramSettings } from './telegram/index.js';
import { createWebChannel, parseAllowedOrigins } from './web/index.js';
import { createWechatChannel, wechatSettings } from './wechat/index.js';

/** What the configured channels are built from. */
export interface ChannelDeps {
  config: Config;
  service: ConversationService;
  bus: MessageBus;
  stores: Stores;
  logger: Logger;
  kb: KnowledgeBase;
  /** The knowledge in use after hot reloads (the demo page follows it); default: `kb`. */
  knowledge?: () => KnowledgeBase;
}

/** Adds a channel built by `build`, or records it as off when the settings say so or building throws. */
function attempt(registry: ChannelRegistry, name: string, build: () => Parameters<ChannelRegistry['add']>[0] | string): void {
  try {
    const r = build();
    if (typeof r === 'string') registry.off(name, r);
    else registry.add(r);
  } catch (err) {
    registry.off(name, (err as Error).message);
  }
}

/** Adds every channel the configuration enables: the web channel always, Telegram and WeChat with their credentials. */
export function addConfiguredChannels(registry: ChannelRegistry, deps: ChannelDeps): ChannelRegistry {
  const { config, service, bus, stores, logger, kb } = deps;
  const utility = () => (deps.knowledge?.() ?? kb).utility;
  registry.add(createWebChannel({ service, bus, allowedOrigins: parseAllowedOrigins(config.WIDGET_ALLOWED_ORIGINS), utility }));
  attempt(registry, 'telegram', () => {
    const s = telegramSettings(config);
    return 'off' in s ? s.off : createTelegramChannel({ ...s.on, service, logger, stores, hotline: () => utility().hotline });
  });
  attempt(registry, 'wechat', () => {
    const s = wechatSettings(config);
    if ('off' in s) return s.off;
    for (const w of s.warnings) logger.warn({ channel: 'wechat' }, w);
    return createWechatChannel({ ...s.on, service, logger, stores, hotline: () => utility().hotline });
  });
  return registry;
}

/** Says once which channels are on and which are off, and why. */
export function reportChannels(registry: ChannelRegistry, logger: Logger): void {
  for (const [name, reason] of registry.disabled()) logger.info({ channel: name }, `channel ${name} is off: ${reason}`);
  logger.info({ channels: registry.list().map((c) => c.name) }, 'channels on');
}
