export { createDispatcher, backoffDelay, type Dispatcher, type DispatcherOptions, type DispatchRound, type OutboxDelivery } from './dispatcher.js';
export { backofficeRoutes, statusMessage, type BackofficeRouteOptions } from './routes.js';
export { sign, signedHeaders, checkSignature, bearerMatches, sameSecret, SIGNATURE_TOLERANCE_SECONDS } from './signature.js';
export { requireAdmin, cookieValue, ADMIN_COOKIE } from './admin-auth.js';
export { mountBackoffice } from './setup.js';
