export {
  createConversationService,
  buildPipeline,
  maskerFor,
  publicNumbers,
  HISTORY_LIMIT,
  type ConversationService,
  type ConversationDeps,
  type ChannelLookup,
  type PipelineMiddleware,
  type StartOptions,
  type ApiState,
  type UserInput,
  type PublicApplication,
} from './service.js';
export { compose, type Turn, type TurnMiddleware, type EffectHandler, type AnyEffectHandler, type Session } from './pipeline.js';
export { createApplicationEffect, flowRunId, lookupApplicationEffect, logHandoffEffect, defaultEffects, EffectRegistry } from './effects.js';
export {
  lockStage,
  dedupeStage,
  loadStage,
  engineStage,
  redactStage,
  commitStage,
  applicationOutboxEntry,
  publishStage,
  loggingMiddleware,
  metricsMiddleware,
  loadSession,
  redactMessage,
  type TurnMetrics,
} from './stages.js';
export { abandonStaleFlow, FLOW_ABANDON_MINUTES, FLOW_ABANDONED_NOTICE, type AbandonResult } from './abandon.js';
