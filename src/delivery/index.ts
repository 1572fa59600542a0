export { DeliveryRouter, wireMessage } from './router.js';
export type { LiveSession, RouterDeps } from './router.js';
export { MemoryPresence } from './memory-presence.js';
export type { Presence, PresenceEntry } from './presence.js';
