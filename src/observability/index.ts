export { ParleyMetrics } from './metrics.js';
export type { MetricsOptions } from './metrics.js';
export { MeteredBus } from './metered-bus.js';
export { Health } from './health.js';
export type { ReadinessCheck, Readiness, CheckState } from './health.js';
export { registerOperationsRoutes } from './operations-routes.js';
