export { channelOf, type ChannelAdapter, type ChannelCapabilities } from './types.js';
export { ChannelRegistry, createChannelRegistry } from './registry.js';
export { addConfiguredChannels, reportChannels, type ChannelDeps } from './setup.js';
export { renderText, cardText, numberedMenu, splitText, lastQuickReplies, pickNumbered, type TextMessage, type TextRenderOptions } from './render-text.js';
export { createWebChannel, parseAllowedOrigins, WEB_CAPABILITIES, type WebChannelOptions, type AllowedOrigins } from './web/index.js';
export { createCliChannel, CLI_CAPABILITIES, CLI_PROMPT, type CliChannel, type CliChannelOptions } from './cli/index.js';
