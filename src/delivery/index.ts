export { DeliveryRouter, wireMessage } from './router.js';
export type { ClusterDeps, LiveSession, RouterDeps } from './router.js';
export { MemoryPresence } from './memory-presence.js';
export type { Presence, PresenceEntry } from './presence.js';
export { RedisPresence } from './redis-presence.js';
export { NodeWatch } from './node-watch.js';
export type { RedisPresenceOptions } from './redis-presence.js';
