// The composition root: the only folder that picks backends and wires capabilities together.
// Small modules, one per concern (stores, cluster, services, events, HTTP, real time), and one
// stack of closers (closers.ts). The server, the admin commands and the bench's cluster mode
// open what they need through these modules.
export { startParley } from './node.js';
export type { RunningParley } from './running.js';
export { openAdminStore, openBlobStore, openStores } from './stores.js';
export type { Stores } from './stores.js';
export { Closers } from './closers.js';
