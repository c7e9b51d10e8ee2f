export { createMetrics, metrics, METRIC_PREFIX, type Metrics } from './metrics.js';
export { metricsRoutes, startMetricsServer, type MetricsRouteOptions } from './routes.js';
export { observeTurn, outcomeCounter, observedClassifier } from './turn-hooks.js';
export { createInFlightTurns, type InFlightTurns } from './in-flight.js';
