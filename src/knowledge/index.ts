export * from './schema.js';
export * from './flow-schema.js';
export * from './load.js';
export * from './catalog.js';
export { lintKnowledge, guideText, unverifiedFigures, shownFields, shownUtilityFields, shownFlowFields, SAMPLE_WORD, UNVERIFIED_OPEN, UNVERIFIED_CLOSE, type UnverifiedFigure } from './lint.js';
export { librarySchema, itemApplicationSchema, type ItemApplication, type ItemBundle } from './item-applications.js';
