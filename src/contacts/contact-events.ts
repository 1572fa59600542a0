import type { ContactFrame } from '../protocol/index.js';

/**
 * What the contact rules tell the rest of the system after a change is committed;
 * compose/services.ts delivers it to every session of both users. Best effort, like every push: a client that missed
 * one re-reads its lists. Handlers run synchronously and must not throw.
 */
export interface ContactEvents {
  contactChanged(userIds: readonly string[], frame: ContactFrame): void;
}
