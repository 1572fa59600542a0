// The SQLite schema history. Append a migration; never edit one that has shipped.
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core',
    sql: `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        created_at_ms INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        token_hash    TEXT PRIMARY KEY,
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device        TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        UNIQUE (user_id, device)
      );
      CREATE TABLE conversations (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'room')),
        name          TEXT UNIQUE,
        title         TEXT,
        created_at_ms INTEGER NOT NULL,
        last_seq      INTEGER NOT NULL DEFAULT 0,
        last_at_us    INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE members (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        joined_seq      INTEGER NOT NULL,
        delivered_seq   INTEGER NOT NULL DEFAULT 0,
        read_seq        INTEGER NOT NULL DEFAULT 0,
        joined_at_ms    INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX members_by_user ON members (user_id);
      CREATE TABLE messages (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        id              TEXT NOT NULL,
        sender_id       TEXT NOT NULL REFERENCES users(id),
        device          TEXT NOT NULL,
        ref             TEXT NOT NULL,
        body            TEXT NOT NULL,
        at_us           INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, seq)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX messages_dedupe ON messages (sender_id, device, ref);
      CREATE UNIQUE INDEX messages_by_time ON messages (conversation_id, at_us);
    `,
  },
  {
    version: 2,
    name: 'sync and recall',
    sql: `
      ALTER TABLE members ADD COLUMN updated_us INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN recalled_at_us INTEGER;
    `,
  },
  {
    version: 3,
    name: 'contacts and profiles',
    // One row per directed edge (see contacts/contact-store.ts). contacts_by_peer serves the
    // incoming-request list; the users.username index serves the prefix search.
    sql: `
      CREATE TABLE contacts (
        user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        peer_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        state    TEXT NOT NULL CHECK (state IN ('requested', 'accepted', 'blocked')),
        note     TEXT,
        since_ms INTEGER NOT NULL,
        PRIMARY KEY (user_id, peer_id),
        CHECK (user_id <> peer_id)
      ) WITHOUT ROWID;
      CREATE INDEX contacts_by_peer ON contacts (peer_id, state);
      CREATE TABLE profiles (
        user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        display_name  TEXT,
        bio           TEXT,
        avatar        TEXT,
        updated_at_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'attachments',
    // Metadata only: the bytes live in the BlobStore under sha256 (several uploads may share
    // one). attachment_uses records the conversations an attachment was sent in; downloads by
    // anyone but the owner are authorized through it (attachments/attachments-service.ts).
    sql: `
      CREATE TABLE attachments (
        id            TEXT PRIMARY KEY,
        owner_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        sha256        TEXT NOT NULL,
        size          INTEGER NOT NULL,
        mime          TEXT NOT NULL,
        name          TEXT,
        created_at_ms INTEGER NOT NULL
      );
      CREATE INDEX attachments_by_owner ON attachments (owner_id, created_at_ms);
      CREATE INDEX attachments_by_sha256 ON attachments (sha256);
      CREATE TABLE attachment_uses (
        attachment_id   TEXT NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        PRIMARY KEY (attachment_id, conversation_id)
      ) WITHOUT ROWID;
      CREATE INDEX attachment_uses_by_conversation ON attachment_uses (conversation_id);
    `,
  },
  {
    version: 5,
    name: 'group management',
    // Groups: history visibility, mute-all and dismissal. Members: muted, and left_seq, which
    // keeps a former member's row so its reads stop at its removal (messaging/store/index.ts).
    // Existing conversations keep 'full' history, as they were read until now.
    sql: `
      ALTER TABLE conversations ADD COLUMN history TEXT NOT NULL DEFAULT 'full'
        CHECK (history IN ('join', 'full'));
      ALTER TABLE conversations ADD COLUMN muted_all INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE conversations ADD COLUMN dismissed_at_ms INTEGER;
      ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE members ADD COLUMN left_seq INTEGER;
    `,
  },
  {
    version: 6,
    name: 'message actions and conversation lists',
    // Edits (messages.edited_at_us), delete-for-me (hidden_messages), reactions, per-member pin
    // and notification mute, group avatars and invite codes, and when an attachment was first
    // sent in a conversation (so former members keep what they saw; older uses count as 0).
    // `mentions` indexes who a message mentions ('*' for @all). Triggers keep it in step with
    // every insert and body change (edit, recall), in the writing transaction, so the append
    // path needs no code for it; the WHEN test is a cheap substring check on the JSON text.
    sql: `
      ALTER TABLE messages ADD COLUMN edited_at_us INTEGER;
      ALTER TABLE members ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE members ADD COLUMN notifications_muted INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX members_pinned ON members (user_id) WHERE pinned = 1;
      ALTER TABLE conversations ADD COLUMN avatar TEXT;
      ALTER TABLE conversations ADD COLUMN invite_code TEXT;
      CREATE UNIQUE INDEX conversations_by_invite ON conversations (invite_code)
        WHERE invite_code IS NOT NULL;
      ALTER TABLE attachment_uses ADD COLUMN used_at_us INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE hidden_messages (
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        hidden_at_us    INTEGER NOT NULL,
        PRIMARY KEY (user_id, conversation_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE reactions (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        emoji           TEXT NOT NULL,
        at_us           INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, seq, user_id, emoji)
      ) WITHOUT ROWID;
      CREATE TABLE mentions (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        user_id         TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX mentions_by_user ON mentions (conversation_id, user_id, seq);
      CREATE TRIGGER mentions_on_insert AFTER INSERT ON messages
        WHEN instr(NEW.body, '"mentions"') > 0
      BEGIN
        INSERT OR IGNORE INTO mentions (conversation_id, seq, user_id)
          SELECT NEW.conversation_id, NEW.seq,
                 CASE WHEN json_type(NEW.body, '$.mentions') = 'text' THEN '*' ELSE value END
            FROM json_each(NEW.body, '$.mentions')
           WHERE json_type(NEW.body, '$.mentions') IN ('array', 'text');
      END;
      CREATE TRIGGER mentions_on_update AFTER UPDATE OF body ON messages
      BEGIN
        DELETE FROM mentions WHERE conversation_id = OLD.conversation_id AND seq = OLD.seq;
        INSERT OR IGNORE INTO mentions (conversation_id, seq, user_id)
          SELECT NEW.conversation_id, NEW.seq,
                 CASE WHEN json_type(NEW.body, '$.mentions') = 'text' THEN '*' ELSE value END
            FROM json_each(NEW.body, '$.mentions')
           WHERE instr(NEW.body, '"mentions"') > 0
             AND json_type(NEW.body, '$.mentions') IN ('array', 'text');
      END;
      INSERT OR IGNORE INTO mentions (conversation_id, seq, user_id)
        SELECT m.conversation_id, m.seq,
               CASE WHEN json_type(m.body, '$.mentions') = 'text' THEN '*' ELSE j.value END
          FROM messages m, json_each(m.body, '$.mentions') j
         WHERE instr(m.body, '"mentions"') > 0
           AND json_type(m.body, '$.mentions') IN ('array', 'text');
    `,
  },
  {
    version: 7,
    name: 'account disabling',
    // `parley user disable` (src/admin/): a disabled account cannot log in and its sessions no
    // longer authenticate; NULL is an enabled account.
    sql: `
      ALTER TABLE users ADD COLUMN disabled_at_ms INTEGER;
    `,
  },
  {
    version: 8,
    name: 'no time index on messages',
    // A message's at_us grows with its seq in its conversation, so paging by time finds its seq
    // bound on the primary key (SqliteMessageLog.pageByTime). The index cost each send a third
    // random B-tree page, written whole to the WAL at every commit.
    sql: `
      DROP INDEX IF EXISTS messages_by_time;
    `,
  },
  {
    version: 9,
    name: 'changed messages',
    // When a message last changed after it was sent (an edit, a recall, a reaction added or
    // removed), so that sync reports it to a device that already has the message
    // (InboxStore.changedMessages). NULL for a message that never changed: the partial index
    // holds changed messages only, so a plain send costs it nothing. Changes made before this
    // version are stamped from what is known of them.
    sql: `
      ALTER TABLE messages ADD COLUMN changed_us INTEGER;
      UPDATE messages SET changed_us = MAX(COALESCE(recalled_at_us, 0), COALESCE(edited_at_us, 0))
       WHERE recalled_at_us IS NOT NULL OR edited_at_us IS NOT NULL;
      UPDATE messages
         SET changed_us = MAX(COALESCE(changed_us, 0),
                              (SELECT MAX(r.at_us) FROM reactions r
                                WHERE r.conversation_id = messages.conversation_id
                                  AND r.seq = messages.seq))
       WHERE EXISTS (SELECT 1 FROM reactions r
                      WHERE r.conversation_id = messages.conversation_id AND r.seq = messages.seq);
      CREATE INDEX messages_changed ON messages (conversation_id, changed_us)
       WHERE changed_us IS NOT NULL;
    `,
  },
  {
    version: 10,
    name: 'account deletion',
    // DELETE /v1/me (docs/rest-api.md): a deleted account is also disabled and has no password;
    // its username stays taken, so nobody can pose as it in the histories it was part of.
    sql: `
      ALTER TABLE users ADD COLUMN deleted_at_ms INTEGER;
    `,
  },
  {
    version: 11,
    name: 'message search',
    // Full-text search of messages (storage/sqlite/sqlite-message-search.ts). A send only queues
    // its (conversation, seq), when its body may hold a searchable field (the WHEN test is a
    // cheap substring check; the indexer looks at the fields themselves); every body change (an
    // edit, a recall) queues the message again. The search thread drains the queue into the
    // contentless FTS5 table, whose rowids are the docs of search_docs. Existing messages are
    // queued oldest first, so the index keeps commit order.
    sql: `
      CREATE TABLE search_queue (
        id              INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        seq             INTEGER NOT NULL
      );
      CREATE TABLE search_docs (
        doc             INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL,
        seq             INTEGER NOT NULL,
        UNIQUE (conversation_id, seq)
      );
      CREATE VIRTUAL TABLE message_search USING fts5(
        conv, text, content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER search_on_insert AFTER INSERT ON messages
        WHEN instr(NEW.body, '"text"') > 0 OR instr(NEW.body, '"caption"') > 0
          OR instr(NEW.body, '"name"') > 0 OR instr(NEW.body, '"label"') > 0
      BEGIN
        INSERT INTO search_queue (conversation_id, seq) VALUES (NEW.conversation_id, NEW.seq);
      END;
      CREATE TRIGGER search_on_update AFTER UPDATE OF body ON messages
      BEGIN
        INSERT INTO search_queue (conversation_id, seq) VALUES (NEW.conversation_id, NEW.seq);
      END;
      INSERT INTO search_queue (conversation_id, seq)
        SELECT conversation_id, seq FROM messages
         WHERE instr(body, '"text"') > 0 OR instr(body, '"caption"') > 0
            OR instr(body, '"name"') > 0 OR instr(body, '"label"') > 0
         ORDER BY at_us, conversation_id, seq;
    `,
  },
  {
    version: 12,
    name: 'pushers',
    // Where each device's app wants push notifications sent (src/push/): one per device. Who
    // gets a push is read by joining members (not left, not muted) and sessions (still logged in).
    sql: `
      CREATE TABLE pushers (
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device        TEXT NOT NULL,
        url           TEXT NOT NULL,
        token         TEXT,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (user_id, device)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 13,
    name: 'session last seen',
    // When a session was last used (AuthService touches it at most every hour), so that one left
    // unused past PARLEY_SESSION_IDLE_MS expires; NULL until the first touch (created_at_ms then).
    sql: `
      ALTER TABLE sessions ADD COLUMN last_seen_ms INTEGER;
    `,
  },
  {
    version: 14,
    name: 'session ends',
    // A short log of ended sessions, which every node reads to close the live links still using
    // them (auth/session-ends.ts). Triggers write it, so every way a session ends is logged, by
    // whichever process ends it (the admin CLI is another process): a delete, or a new login of
    // the device replacing its token. Epoch ms by SQLite's clock.
    sql: `
      CREATE TABLE session_ends (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash  TEXT NOT NULL,
        ended_at_ms INTEGER NOT NULL
      );
      CREATE INDEX session_ends_by_time ON session_ends (ended_at_ms);
      CREATE TRIGGER session_deleted AFTER DELETE ON sessions BEGIN
        INSERT INTO session_ends (token_hash, ended_at_ms)
        VALUES (old.token_hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
      END;
      CREATE TRIGGER session_replaced AFTER UPDATE OF token_hash ON sessions
        WHEN old.token_hash <> new.token_hash BEGIN
        INSERT INTO session_ends (token_hash, ended_at_ms)
        VALUES (old.token_hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
      END;
    `,
  },
  {
    version: 15,
    name: 'login sources',
    // Where each account logged in from before, for the login throttle (auth/login-sources.ts):
    // the addresses (hashed with the user: an address is personal data) and the devices' keys
    // (hashed like tokens). Rows age out by last_ok_ms, hence its index.
    sql: `
      CREATE TABLE login_addresses (
        user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        address_hash TEXT NOT NULL,
        last_ok_ms   INTEGER NOT NULL,
        PRIMARY KEY (user_id, address_hash)
      ) WITHOUT ROWID;
      CREATE INDEX login_addresses_by_age ON login_addresses (last_ok_ms);
      CREATE TABLE device_keys (
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device     TEXT NOT NULL,
        key_hash   TEXT NOT NULL,
        last_ok_ms INTEGER NOT NULL,
        PRIMARY KEY (user_id, device)
      ) WITHOUT ROWID;
      CREATE INDEX device_keys_by_age ON device_keys (last_ok_ms);
    `,
  },
  {
    version: 16,
    name: 'new messages queue their own side rows',
    // A new message's search-queue row and mention rows are written by the code that inserts it
    // (SqliteMessaging.writeSideRows), not by insert triggers: a row trigger cost every send about
    // 2 µs even when its WHEN test was false, and most sends mention nobody (BENCHMARKS.md, issue
    // 19). An edit or a recall still requeues and re-mentions through the update triggers.
    sql: `
      DROP TRIGGER search_on_insert;
      DROP TRIGGER mentions_on_insert;
    `,
  },
];
