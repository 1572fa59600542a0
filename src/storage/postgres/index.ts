import { systemClock, type Clock } from '../../core/clock.js';
import type { AuthStores } from '../../auth/index.js';
import type { SessionEnds } from '../../auth/index.js';
import { PostgresSessionEnds } from './postgres-session-ends.js';
import type { MessageStores } from '../../messaging/store/index.js';
import type { AttachmentStore } from '../../attachments/index.js';
import type { ContactStore } from '../../contacts/index.js';
import type { ProfileStore } from '../../users/index.js';
import { openPostgresPool } from './database.js';
import { PostgresLoginSources } from './postgres-login-sources.js';
import { PostgresSessionStore } from './postgres-sessions.js';
import { PostgresUserStore } from './postgres-users.js';
import { PostgresConversationStore } from './postgres-conversations.js';
import { PostgresMemberStore } from './postgres-members.js';
import { PostgresInboxStore } from './postgres-inbox.js';
import { PostgresMessageLog } from './postgres-message-log.js';
import { PostgresMessageActionStore } from './postgres-message-actions.js';
import { PostgresGroupStore } from './postgres-groups.js';
import { PostgresSearchStore } from './postgres-search.js';
import { PostgresAttachmentStore } from './postgres-attachment-store.js';
import { PostgresContactStore } from './postgres-contact-store.js';
import { PostgresProfileStore } from './postgres-profile-store.js';

import type { PusherStore } from '../../push/index.js';
import { PostgresPusherStore } from './postgres-pusher-store.js';
export { PostgresAttachmentStore } from './postgres-attachment-store.js';
export { PostgresContactStore } from './postgres-contact-store.js';
export { PostgresProfileStore } from './postgres-profile-store.js';
export { openPostgresPool } from './database.js';
export type { PostgresOptions } from './database.js';
export { POSTGRES_MIGRATIONS, migrate } from './migrations.js';
export type { Migration } from './migrations.js';

export interface PostgresStores {
  readonly auth: AuthStores;
  readonly sessionEnds: SessionEnds;
  readonly messages: MessageStores;
  readonly attachments: AttachmentStore;
  readonly contacts: ContactStore;
  readonly profiles: ProfileStore;
  readonly pushers: PusherStore;
  /** Ends the pool: waits for checked-out connections to come back, then closes them all. */
  close(): Promise<void>;
}

/** Opens every store port on one PostgreSQL database (migrating it first), over one pool. */
export async function openPostgresStores(options: {
  url: string;
  clock?: Clock;
  poolMax?: number;
  onIdleError?: (err: Error) => void;
}): Promise<PostgresStores> {
  const pool = await openPostgresPool({
    url: options.url,
    ...(options.poolMax !== undefined && { poolMax: options.poolMax }),
    ...(options.onIdleError && { onIdleError: options.onIdleError }),
  });
  const clock = options.clock ?? systemClock;
  let closing: Promise<void> | undefined;
  return {
    auth: {
      users: new PostgresUserStore(pool, clock),
      sessions: new PostgresSessionStore(pool, clock),
      loginSources: new PostgresLoginSources(pool),
    },
    sessionEnds: new PostgresSessionEnds(pool),
    messages: {
      conversations: new PostgresConversationStore(pool, clock),
      members: new PostgresMemberStore(pool, clock),
      inbox: new PostgresInboxStore(pool, clock),
      log: new PostgresMessageLog(pool, clock),
      actions: new PostgresMessageActionStore(pool, clock),
      groups: new PostgresGroupStore(pool, clock),
      search: new PostgresSearchStore(pool),
    },
    attachments: new PostgresAttachmentStore(pool),
    contacts: new PostgresContactStore(pool),
    profiles: new PostgresProfileStore(pool, clock),
    pushers: new PostgresPusherStore(pool),
    close: () => (closing ??= pool.end()),
  };
}
export { PostgresAdminStore } from './postgres-admin-store.js';
