export * from './schema.js';
export * from './flow-schema.js';
export * from './load.js';
export * from './catalog.js';
export { lintKnowledge, guideText } from './lint.js';
