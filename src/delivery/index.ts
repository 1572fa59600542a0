export { DeliveryRouter, wireMessage } from './router.js';
export type { LiveSession, RouterDeps } from './router.js';
