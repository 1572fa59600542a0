import { systemClock, type Clock } from '../../core/clock.js';
import type { AuthStore } from '../../auth/auth-store.js';
import type { MessageStore } from '../../messaging/message-store.js';
import type { AttachmentStore } from '../../attachments/attachment-store.js';
import type { ContactStore } from '../../contacts/contact-store.js';
import type { ProfileStore } from '../../users/profile-store.js';
import { openSqliteDatabase, type SqliteSynchronous } from './database.js';
import { SqliteAuthStore } from './sqlite-auth-store.js';
import { SqliteMessageStore } from './sqlite-message-store.js';
import { SqliteAttachmentStore } from './sqlite-attachment-store.js';
import { SqliteContactStore } from './sqlite-contact-store.js';
import { SqliteProfileStore } from './sqlite-profile-store.js';

export { SqliteAuthStore } from './sqlite-auth-store.js';
export { SqliteMessageStore } from './sqlite-message-store.js';
export { SqliteAttachmentStore } from './sqlite-attachment-store.js';
export { SqliteContactStore } from './sqlite-contact-store.js';
export { SqliteProfileStore } from './sqlite-profile-store.js';
export { openSqliteDatabase, migrate } from './database.js';
export type { SqliteDb, SqliteOptions, SqliteSynchronous } from './database.js';

export interface SqliteStores {
  readonly auth: AuthStore;
  readonly messages: MessageStore;
  readonly attachments: AttachmentStore;
  readonly contacts: ContactStore;
  readonly profiles: ProfileStore;
  close(): Promise<void>;
}

/** Opens every store port on one SQLite file. */
export function openSqliteStores(options: {
  file: string;
  synchronous?: SqliteSynchronous;
  clock?: Clock;
}): Promise<SqliteStores> {
  const db = openSqliteDatabase(
    options.synchronous
      ? { file: options.file, synchronous: options.synchronous }
      : { file: options.file },
  );
  const clock = options.clock ?? systemClock;
  return Promise.resolve({
    auth: new SqliteAuthStore(db, clock),
    messages: new SqliteMessageStore(db, clock),
    attachments: new SqliteAttachmentStore(db),
    contacts: new SqliteContactStore(db),
    profiles: new SqliteProfileStore(db, clock),
    close: () => {
      if (db.open) db.close();
      return Promise.resolve();
    },
  });
}
