import type { Migration } from './migrate.js';

// The PostgreSQL schema history, equivalent to the SQLite one. Append a migration; never edit one
// that has shipped. Times and seqs are BIGINT (the pools parse int8 to JS numbers). migrate.ts
// applies them.
export { migrate } from './migrate.js';
export type { Migration } from './migrate.js';

/** Characters PostgreSQL's text parser joins words with (host, email, url, file, hyphenated word). */
const WORD_JOINERS = '-.@/:~+&;<>=?%#_!,*^|$';

/**
 * What message search matches (docs/messages.md#search), as the expression of the GIN index of
 * migration 11: a search must use it word for word for the index to serve it. Never change it;
 * a new document is a new index in a new migration. The fields are messaging/store/search-text.ts's
 * SEARCH_FIELDS; a recalled body has none of them. WORD_JOINERS become spaces, so that
 * "budget-2027.xlsx" is three words here as in SQLite's tokenizer and the query's words
 * (searchWords), not one file name; translate() does not depend on the database's locale.
 */
export const SEARCH_DOCUMENT =
  "to_tsvector('simple', translate(COALESCE(body->>'text', '') || ' ' ||" +
  " COALESCE(body->>'caption', '') || ' ' || COALESCE(body->>'name', '') || ' ' ||" +
  ` COALESCE(body->>'label', ''), '${WORD_JOINERS}', '${' '.repeat(WORD_JOINERS.length)}'))`;

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core',
    sql: `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        created_at_ms BIGINT NOT NULL
      );
      CREATE TABLE sessions (
        token_hash    TEXT PRIMARY KEY,
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device        TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        UNIQUE (user_id, device)
      );
      CREATE TABLE conversations (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'room')),
        name          TEXT UNIQUE,
        title         TEXT,
        created_at_ms BIGINT NOT NULL,
        last_seq      BIGINT NOT NULL DEFAULT 0,
        last_at_us    BIGINT NOT NULL DEFAULT 0
      );
      CREATE TABLE members (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        joined_seq      BIGINT NOT NULL,
        delivered_seq   BIGINT NOT NULL DEFAULT 0,
        read_seq        BIGINT NOT NULL DEFAULT 0,
        joined_at_ms    BIGINT NOT NULL,
        updated_us      BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (conversation_id, user_id)
      );
      CREATE INDEX members_by_user ON members (user_id);
      -- body is json, not jsonb: stored verbatim, and jsonb would refuse a "\\u0000" in a text.
      CREATE TABLE messages (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             BIGINT NOT NULL,
        id              TEXT NOT NULL,
        sender_id       TEXT NOT NULL REFERENCES users(id),
        device          TEXT NOT NULL,
        ref             TEXT NOT NULL,
        body            JSON NOT NULL,
        at_us           BIGINT NOT NULL,
        recalled_at_us  BIGINT,
        PRIMARY KEY (conversation_id, seq)
      );
      CREATE UNIQUE INDEX messages_dedupe ON messages (sender_id, device, ref);
      CREATE UNIQUE INDEX messages_by_time ON messages (conversation_id, at_us);
    `,
  },
  // Version 2 exists only in SQLite: PostgreSQL's version 1 already had its columns.
  {
    version: 3,
    name: 'contacts and profiles',
    // One row per directed edge (see contacts/contact-store.ts). contacts_by_peer serves the
    // incoming-request list; users_username_c serves the prefix search in byte order, whatever
    // the database's default collation.
    sql: `
      CREATE TABLE contacts (
        user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        peer_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        state    TEXT NOT NULL CHECK (state IN ('requested', 'accepted', 'blocked')),
        note     TEXT,
        since_ms BIGINT NOT NULL,
        PRIMARY KEY (user_id, peer_id),
        CHECK (user_id <> peer_id)
      );
      CREATE INDEX contacts_by_peer ON contacts (peer_id, state);
      CREATE TABLE profiles (
        user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        display_name  TEXT,
        bio           TEXT,
        avatar        TEXT,
        updated_at_ms BIGINT NOT NULL
      );
      CREATE INDEX users_username_c ON users (username COLLATE "C");
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
        size          BIGINT NOT NULL,
        mime          TEXT NOT NULL,
        name          TEXT,
        created_at_ms BIGINT NOT NULL
      );
      CREATE INDEX attachments_by_owner ON attachments (owner_id, created_at_ms);
      CREATE INDEX attachments_by_sha256 ON attachments (sha256);
      CREATE TABLE attachment_uses (
        attachment_id   TEXT NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        PRIMARY KEY (attachment_id, conversation_id)
      );
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
      ALTER TABLE conversations ADD COLUMN muted_all BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE conversations ADD COLUMN dismissed_at_ms BIGINT;
      ALTER TABLE members ADD COLUMN muted BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE members ADD COLUMN left_seq BIGINT;
    `,
  },
  {
    version: 6,
    name: 'message actions and conversation lists',
    // As SQLite's migration 6: edits, delete-for-me, reactions, pin and notification mute,
    // group avatars and invite codes, first use of an attachment in a conversation, and the
    // `mentions` index kept by triggers in the writing transaction. The insert trigger's WHEN
    // is a substring test on the JSON text, so messages without mentions skip the function.
    sql: `
      ALTER TABLE messages ADD COLUMN edited_at_us BIGINT;
      ALTER TABLE members ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE members ADD COLUMN notifications_muted BOOLEAN NOT NULL DEFAULT false;
      CREATE INDEX members_pinned ON members (user_id) WHERE pinned;
      ALTER TABLE conversations ADD COLUMN avatar TEXT;
      ALTER TABLE conversations ADD COLUMN invite_code TEXT;
      CREATE UNIQUE INDEX conversations_by_invite ON conversations (invite_code)
        WHERE invite_code IS NOT NULL;
      ALTER TABLE attachment_uses ADD COLUMN used_at_us BIGINT NOT NULL DEFAULT 0;
      CREATE TABLE hidden_messages (
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             BIGINT NOT NULL,
        hidden_at_us    BIGINT NOT NULL,
        PRIMARY KEY (user_id, conversation_id, seq)
      );
      CREATE TABLE reactions (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             BIGINT NOT NULL,
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        emoji           TEXT NOT NULL,
        at_us           BIGINT NOT NULL,
        PRIMARY KEY (conversation_id, seq, user_id, emoji)
      );
      CREATE TABLE mentions (
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             BIGINT NOT NULL,
        user_id         TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq, user_id)
      );
      CREATE INDEX mentions_by_user ON mentions (conversation_id, user_id, seq);
      CREATE FUNCTION parley_index_mentions() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          DELETE FROM mentions WHERE conversation_id = OLD.conversation_id AND seq = OLD.seq;
        END IF;
        IF json_typeof(NEW.body -> 'mentions') = 'array' THEN
          INSERT INTO mentions (conversation_id, seq, user_id)
            SELECT NEW.conversation_id, NEW.seq, u
              FROM json_array_elements_text(NEW.body -> 'mentions') AS u
          ON CONFLICT DO NOTHING;
        ELSIF json_typeof(NEW.body -> 'mentions') = 'string' THEN
          INSERT INTO mentions (conversation_id, seq, user_id)
          VALUES (NEW.conversation_id, NEW.seq, '*') ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER mentions_on_insert AFTER INSERT ON messages FOR EACH ROW
        WHEN (strpos(NEW.body::text, '"mentions"') > 0)
        EXECUTE FUNCTION parley_index_mentions();
      CREATE TRIGGER mentions_on_update AFTER UPDATE OF body ON messages FOR EACH ROW
        EXECUTE FUNCTION parley_index_mentions();
      INSERT INTO mentions (conversation_id, seq, user_id)
        SELECT m.conversation_id, m.seq, u
          FROM messages m,
               json_array_elements_text(
                 CASE WHEN json_typeof(m.body -> 'mentions') = 'array' THEN m.body -> 'mentions' END
               ) AS u
        UNION
        SELECT m.conversation_id, m.seq, '*' FROM messages m
         WHERE json_typeof(m.body -> 'mentions') = 'string'
        ON CONFLICT DO NOTHING;
    `,
  },
  {
    version: 7,
    name: 'account disabling',
    // `parley user disable` (src/admin/): a disabled account cannot log in and its sessions no
    // longer authenticate; NULL is an enabled account.
    sql: `
      ALTER TABLE users ADD COLUMN disabled_at_ms BIGINT;
    `,
  },
  // Version 8 exists only in SQLite: PostgreSQL keeps its time index (row-level WAL).
  {
    version: 9,
    name: 'changed messages',
    // When a message last changed after it was sent (an edit, a recall, a reaction added or
    // removed), so that sync reports it to a device that already has the message
    // (InboxStore.changedMessages). NULL for a message that never changed: the partial index
    // holds changed messages only. Changes made before this version are stamped from what is
    // known of them.
    sql: `
      ALTER TABLE messages ADD COLUMN changed_us BIGINT;
      UPDATE messages SET changed_us = GREATEST(recalled_at_us, edited_at_us)
       WHERE recalled_at_us IS NOT NULL OR edited_at_us IS NOT NULL;
      UPDATE messages m SET changed_us = GREATEST(m.changed_us, r.at_us)
        FROM (SELECT conversation_id, seq, MAX(at_us) AS at_us FROM reactions
               GROUP BY conversation_id, seq) r
       WHERE r.conversation_id = m.conversation_id AND r.seq = m.seq;
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
      ALTER TABLE users ADD COLUMN deleted_at_ms BIGINT;
    `,
  },
  {
    version: 11,
    name: 'message search',
    // A GIN index of each message's searchable text. GIN's pending list (fastupdate) keeps the
    // cost of a send low: new entries are merged into the index in bulk. IF NOT EXISTS lets an
    // operator of a large database build it first with CREATE INDEX CONCURRENTLY (the
    // migration's plain CREATE INDEX blocks writes to messages while it runs;
    // docs/operations.md).
    sql: `
      CREATE INDEX IF NOT EXISTS messages_search ON messages USING gin ((${SEARCH_DOCUMENT}));
    `,
  },
  {
    version: 12,
    name: 'pushers',
    // Where each device's app wants push notifications sent (src/push/): one per device.
    sql: `
      CREATE TABLE pushers (
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device        TEXT NOT NULL,
        url           TEXT NOT NULL,
        token         TEXT,
        created_at_ms BIGINT NOT NULL,
        PRIMARY KEY (user_id, device)
      );
    `,
  },
  {
    version: 13,
    name: 'session last seen',
    // When a session was last used, for PARLEY_SESSION_IDLE_MS; NULL until the first touch.
    sql: `
      ALTER TABLE sessions ADD COLUMN last_seen_ms BIGINT;
    `,
  },
  {
    version: 14,
    name: 'session ends',
    // A short log of ended sessions, which every node reads to close the live links still using
    // them (auth/session-ends.ts). Triggers write it, so every way a session ends is logged, by
    // whichever process ends it: a delete (cascades included), or putSession's upsert replacing
    // the device's token. Epoch ms by the database's clock.
    sql: `
      CREATE TABLE session_ends (
        id          BIGSERIAL PRIMARY KEY,
        token_hash  TEXT NOT NULL,
        ended_at_ms BIGINT NOT NULL
      );
      CREATE INDEX session_ends_by_time ON session_ends (ended_at_ms);
      CREATE FUNCTION log_session_end() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO session_ends (token_hash, ended_at_ms)
        VALUES (OLD.token_hash, (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
        RETURN NULL;
      END $$;
      CREATE TRIGGER session_deleted AFTER DELETE ON sessions
        FOR EACH ROW EXECUTE FUNCTION log_session_end();
      CREATE TRIGGER session_replaced AFTER UPDATE OF token_hash ON sessions
        FOR EACH ROW WHEN (OLD.token_hash IS DISTINCT FROM NEW.token_hash)
        EXECUTE FUNCTION log_session_end();
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
        last_ok_ms   BIGINT NOT NULL,
        PRIMARY KEY (user_id, address_hash)
      );
      CREATE INDEX login_addresses_by_age ON login_addresses (last_ok_ms);
      CREATE TABLE device_keys (
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device     TEXT NOT NULL,
        key_hash   TEXT NOT NULL,
        last_ok_ms BIGINT NOT NULL,
        PRIMARY KEY (user_id, device)
      );
      CREATE INDEX device_keys_by_age ON device_keys (last_ok_ms);
    `,
  },
  {
    version: 16,
    name: 'no foreign keys on messages',
    // A foreign key is checked per inserted row by a trigger that runs a query and locks the
    // parent row FOR KEY SHARE (for the sender, a row lock written to the WAL): about a fifth of
    // PostgreSQL's CPU per stored message (BENCHMARKS.md, issue 19). Both checks were redundant:
    // every insert into messages runs in a transaction that has locked its conversation's row,
    // and stores a message only from a member, whose row keeps the user's key. Nothing deletes a
    // user or a conversation row (an account deletion keeps the row), so the cascade never ran
    // (docs/decisions/0071-no-foreign-keys-on-messages.md).
    sql: `
      ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_conversation_id_fkey;
      ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_sender_id_fkey;
    `,
  },
];
