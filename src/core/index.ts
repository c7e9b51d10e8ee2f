export * from './types.js';
export * from './errors.js';
export * from './logger.js';
export * from './mask.js';
export * from './live.js';
