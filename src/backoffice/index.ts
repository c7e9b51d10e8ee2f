export { createDispatcher, backoffDelay, type Dispatcher, type DispatcherOptions, type DispatchRound, type OutboxDelivery } from './dispatcher.js';
export { backofficeRoutes, statusMessage, type BackofficeRouteOptions } from './routes.js';
export { sign, signedHeaders, checkSignature, SIGNATURE_TOLERANCE_SECONDS } from './signature.js';
export { outboxAdminRoutes } from './admin-routes.js';
export { mountBackoffice } from './setup.js';
