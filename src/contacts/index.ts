export { ContactsService, relationOf } from './contacts-service.js';
export type { Actor, ContactList, ContactsDeps, Relation } from './contacts-service.js';
export { BlockGuard } from './block-guard.js';
export { BlockPresence } from './block-presence.js';
export type { BlockPresenceDeps } from './block-presence.js';
export type { ContactEvents } from './contact-events.js';
export { registerContactRoutes } from './contacts-routes.js';
export type {
  ContactEntry,
  ContactListKind,
  ContactPage,
  ContactStore,
  Edge,
  EdgeState,
  Pair,
  PairStates,
} from './contact-store.js';
export type { DirectBar } from './contact-store.js';
