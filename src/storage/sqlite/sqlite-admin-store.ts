import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { User } from '../../auth/index.js';
import { openSqliteDatabase, type SqliteDb } from './database.js';
import { isUniqueViolation } from './errors.js';
import { toUser, type UserRow } from '../rows.js';
import type {
  AdminStore,
  AppliedMigration,
  StoreStats,
  UserChange,
} from '../../admin/store/index.js';

/** The AdminStore on the embedded SQLite file; opening it migrates the file, as a start does. */
export class SqliteAdminStore implements AdminStore {
  private readonly db: SqliteDb;

  private constructor(db: SqliteDb) {
    this.db = db;
  }

  static open(file: string): SqliteAdminStore {
    return new SqliteAdminStore(openSqliteDatabase({ file }));
  }

  addUser(username: string, passwordHash: string): Promise<User> {
    const user: User = { id: newId('u'), username, createdAtMs: Date.now() };
    try {
      this.db
        .prepare(
          'INSERT INTO users (id, username, password_hash, created_at_ms) VALUES (?, ?, ?, ?)',
        )
        .run(user.id, username, passwordHash, user.createdAtMs);
    } catch (err) {
      if (isUniqueViolation(err)) {
        return Promise.reject(new ParleyError('username_taken', undefined, { cause: err }));
      }
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return Promise.resolve(user);
  }

  setPassword(username: string, passwordHash: string): Promise<UserChange | null> {
    return this.change(username, (id) =>
      this.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, id),
    );
  }

  disable(username: string): Promise<UserChange | null> {
    return this.change(username, (id) =>
      this.db
        .prepare('UPDATE users SET disabled_at_ms = COALESCE(disabled_at_ms, ?) WHERE id = ?')
        .run(Date.now(), id),
    );
  }

  enable(username: string): Promise<UserChange | null> {
    return this.change(
      username,
      (id) => this.db.prepare('UPDATE users SET disabled_at_ms = NULL WHERE id = ?').run(id),
      false,
    );
  }

  stats(): Promise<StoreStats> {
    const count = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    const kinds = this.db
      .prepare('SELECT kind, COUNT(*) AS n FROM conversations GROUP BY kind')
      .all() as { kind: string; n: number }[];
    const byKind = (k: string) => kinds.find((r) => r.kind === k)?.n ?? 0;
    return Promise.resolve({
      users: count('SELECT COUNT(*) AS n FROM users'),
      disabledUsers: count('SELECT COUNT(*) AS n FROM users WHERE disabled_at_ms IS NOT NULL'),
      sessions: count('SELECT COUNT(*) AS n FROM sessions'),
      conversations: { direct: byKind('direct'), group: byKind('group'), room: byKind('room') },
      messages: count('SELECT COUNT(*) AS n FROM messages'),
      attachments: count('SELECT COUNT(*) AS n FROM attachments'),
      attachmentBytes: count('SELECT COALESCE(SUM(size), 0) AS n FROM attachments'),
      deletedUsers: count('SELECT COUNT(*) AS n FROM users WHERE deleted_at_ms IS NOT NULL'),
      pushers: count('SELECT COUNT(*) AS n FROM pushers'),
    });
  }

  migrations(): Promise<AppliedMigration[]> {
    const rows = this.db
      .prepare('SELECT version, name, applied_at_ms FROM schema_migrations ORDER BY version')
      .all() as { version: number; name: string; applied_at_ms: number }[];
    return Promise.resolve(
      rows.map((r) => ({ version: r.version, name: r.name, appliedAtMs: r.applied_at_ms })),
    );
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  /** Runs `update` on the user and, unless told not to, deletes its sessions: one transaction. */
  private change(
    username: string,
    update: (userId: string) => unknown,
    revoke = true,
  ): Promise<UserChange | null> {
    const result = this.db
      .transaction((): UserChange | null => {
        const row = this.db
          .prepare('SELECT * FROM users WHERE username = ? AND deleted_at_ms IS NULL')
          .get(username) as UserRow | undefined;
        if (!row) return null;
        update(row.id);
        if (!revoke) return { user: toUser(row), revokedDevices: [] };
        const devices = this.db
          .prepare('DELETE FROM sessions WHERE user_id = ? RETURNING device')
          .all(row.id) as { device: string }[];
        // A device key would still let a copy of it past the login throttle's username budget.
        this.db.prepare('DELETE FROM device_keys WHERE user_id = ?').run(row.id);
        return { user: toUser(row), revokedDevices: devices.map((d) => d.device) };
      })
      .immediate();
    return Promise.resolve(result);
  }
}
