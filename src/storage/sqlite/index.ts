import { systemClock, type Clock } from '../../core/clock.js';
import type { AuthStores } from '../../auth/index.js';
import type { SessionEnds } from '../../auth/index.js';
import { SqliteSessionEnds } from './sqlite-session-ends.js';
import type { MessageStores } from '../../messaging/store/index.js';
import type { AttachmentStore } from '../../attachments/index.js';
import type { ContactStore } from '../../contacts/index.js';
import type { ProfileStore } from '../../users/index.js';
import type { PusherStore } from '../../push/index.js';
import { SqlitePusherStore } from './sqlite-pusher-store.js';
import { startAppendThread } from './append-thread.js';
import { startCheckpointer } from './checkpointer.js';
import { openSqliteDatabase, type SqliteSynchronous } from './database.js';
import { SqliteLoginSources } from './sqlite-login-sources.js';
import { SqliteSessionStore } from './sqlite-sessions.js';
import { SqliteUserStore } from './sqlite-users.js';
import { SqliteMessaging } from './sqlite-messaging.js';
import { SqliteConversations } from './sqlite-conversations.js';
import { SqliteMembers } from './sqlite-members.js';
import { SqliteInbox } from './sqlite-inbox.js';
import { SqliteMessageLog } from './sqlite-message-log.js';
import { SqliteMessageActions } from './sqlite-message-actions.js';
import { SqliteGroups } from './sqlite-groups.js';
import { SqliteSearch } from './sqlite-search.js';
import { SqliteMessageSearch } from './sqlite-message-search.js';
import { startSearchIndexer } from './search-indexer.js';
import { SqliteAttachmentStore } from './sqlite-attachment-store.js';
import { SqliteContactStore } from './sqlite-contact-store.js';
import { SqliteProfileStore } from './sqlite-profile-store.js';

export { SqliteAttachmentStore } from './sqlite-attachment-store.js';
export { SqliteContactStore } from './sqlite-contact-store.js';
export { SqliteProfileStore } from './sqlite-profile-store.js';
export { openSqliteDatabase, migrate } from './database.js';
export type { SqliteDb, SqliteOptions, SqliteSynchronous } from './database.js';

export interface SqliteStores {
  readonly auth: AuthStores;
  readonly sessionEnds: SessionEnds;
  readonly messages: MessageStores;
  readonly attachments: AttachmentStore;
  readonly contacts: ContactStore;
  readonly profiles: ProfileStore;
  readonly pushers: PusherStore;
  /** Messages waiting for the search index (docs/operations.md, parley_search_backlog). */
  searchBacklog(): number;
  close(): Promise<void>;
}

/**
 * How often the checkpointer runs. Each send dirties three to four B-tree pages (its message, its
 * dedupe entry, its share of the conversation's head and the sender's read mark, mostly on
 * different pages; 3.7 WAL frames per send measured under strace), so the WAL grows by about
 * 30,000 pages a second at 8,000 sends/s. Once a second
 * let it cross the automatic checkpoint's 10,000 pages every ~330 ms, and that checkpoint then ran
 * inside a commit of the append thread and stalled it 20-45 ms. Every 100 ms keeps the WAL under
 * it; a checkpoint with little to copy costs little.
 */
const CHECKPOINT_INTERVAL_MS = 100;

/** The messaging ports: one class each, over what they share on this connection. */
function messageStores(
  shared: SqliteMessaging,
  log: SqliteMessageLog,
  index: SqliteMessageSearch,
): MessageStores {
  return {
    conversations: new SqliteConversations(shared),
    members: new SqliteMembers(shared),
    inbox: new SqliteInbox(shared),
    log,
    actions: new SqliteMessageActions(shared),
    groups: new SqliteGroups(shared),
    search: new SqliteSearch(shared, index),
  };
}

/** Opens every store port on one SQLite file. */
export function openSqliteStores(options: {
  file: string;
  synchronous?: SqliteSynchronous;
  clock?: Clock;
  /** A checkpoint failed (the WAL then grows until the fallback checkpoint runs). */
  onCheckpointError?: (message: string) => void;
  /**
   * Appends run on a thread of their own (append-thread.ts). File databases only; the thread
   * uses the system clock, so a custom `clock` keeps appends on this thread.
   */
  appendThread?: boolean;
  /** The append thread failed (later appends run on this thread). */
  onAppendThreadError?: (message: string) => void;
  /** Indexing a chunk of messages for search failed (it is retried on the next round). */
  onSearchIndexError?: (message: string) => void;
}): Promise<SqliteStores> {
  const db = openSqliteDatabase(
    options.synchronous
      ? { file: options.file, synchronous: options.synchronous }
      : { file: options.file },
  );
  const clock = options.clock ?? systemClock;
  // A file database checkpoints its WAL from a worker thread (see checkpointer.ts).
  const checkpointer =
    options.file === ':memory:'
      ? null
      : startCheckpointer({
          file: options.file,
          intervalMs: CHECKPOINT_INTERVAL_MS,
          onError: (message) => options.onCheckpointError?.(message),
        });
  // One instance of what the messaging ports share (sqlite-messaging.ts), for all seven.
  const shared = new SqliteMessaging(db, clock);
  const log = new SqliteMessageLog(shared);
  const appendThread =
    options.appendThread && options.file !== ':memory:' && !options.clock
      ? startAppendThread({
          file: options.file,
          synchronous: options.synchronous ?? 'normal',
          fallback: (batch) => log.appendHere(batch),
          onError: (message) => options.onAppendThreadError?.(message),
          onSearchIndexError: (message) => options.onSearchIndexError?.(message),
        })
      : null;
  if (appendThread) log.useAppender((batch) => appendThread.append(batch));
  // The search index is kept by the thread that appends: the append thread indexes between its
  // batches; without one, the event loop does (search-indexer.ts). The same index answers searches.
  const search = new SqliteMessageSearch(db);
  const indexer = appendThread
    ? null
    : startSearchIndexer(search, {
        idle: () => true,
        lastBatchAt: () => -Infinity,
        onError: (message) => options.onSearchIndexError?.(message),
      });
  return Promise.resolve({
    auth: {
      users: new SqliteUserStore(db, clock),
      sessions: new SqliteSessionStore(db, clock),
      loginSources: new SqliteLoginSources(db),
    },
    sessionEnds: new SqliteSessionEnds(db),
    messages: messageStores(shared, log, search),
    attachments: new SqliteAttachmentStore(db),
    contacts: new SqliteContactStore(db),
    profiles: new SqliteProfileStore(db, clock),
    pushers: new SqlitePusherStore(db),
    searchBacklog: () => (db.open ? search.backlog() : 0),
    close: async () => {
      indexer?.stop();
      await appendThread?.stop();
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  });
}
export { SqliteAdminStore } from './sqlite-admin-store.js';
