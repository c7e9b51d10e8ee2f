export { analyticsMiddleware, describeTurn, ratingEvent, NONE_OF_THESE, type AnalyticsDeps, type TurnDecision, type TurnEventData, type RatingEventData } from './events.js';
export { buildReport, unanswered, unansweredCsv, type AnalyticsReport, type ReportOptions, type ReportCatalog, type UnansweredGroup, type Counted } from './report.js';
export { clusterTexts, bigrams, jaccard, type TextCluster } from './cluster.js';
export { analyticsRoutes, rangeOf, type AnalyticsRouteOptions } from './routes.js';
export { writeAnalyticsBundle } from './page-assets.js';
