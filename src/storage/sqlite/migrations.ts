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
];
