import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { User } from '../../auth/index.js';
import { inTransaction, isUniqueViolation, openPostgresPool } from './database.js';
import { toUser, type UserRow } from '../rows.js';
import type {
  AdminStore,
  AppliedMigration,
  StoreStats,
  UserChange,
} from '../../admin/store/index.js';

/** The AdminStore on the cluster's PostgreSQL; opening it migrates the database, as a start does. */
export class PostgresAdminStore implements AdminStore {
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static async open(url: string): Promise<PostgresAdminStore> {
    return new PostgresAdminStore(await openPostgresPool({ url, poolMax: 2 }));
  }

  async addUser(username: string, passwordHash: string): Promise<User> {
    const user: User = { id: newId('u'), username, createdAtMs: Date.now() };
    try {
      await this.pool.query(
        'INSERT INTO users (id, username, password_hash, created_at_ms) VALUES ($1, $2, $3, $4)',
        [user.id, username, passwordHash, user.createdAtMs],
      );
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ParleyError('username_taken', undefined, { cause: err });
      throw err;
    }
    return user;
  }

  setPassword(username: string, passwordHash: string): Promise<UserChange | null> {
    return this.change(username, (c, id) =>
      c.query('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, id]),
    );
  }

  disable(username: string): Promise<UserChange | null> {
    return this.change(username, (c, id) =>
      c.query('UPDATE users SET disabled_at_ms = COALESCE(disabled_at_ms, $1) WHERE id = $2', [
        Date.now(),
        id,
      ]),
    );
  }

  enable(username: string): Promise<UserChange | null> {
    return this.change(
      username,
      (c, id) => c.query('UPDATE users SET disabled_at_ms = NULL WHERE id = $1', [id]),
      false,
    );
  }

  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.query<{
      users: number;
      disabled: number;
      sessions: number;
      direct: number;
      grp: number;
      room: number;
      messages: number;
      attachments: number;
      bytes: number;
      deleted: number;
      pushers: number;
    }>(
      `SELECT (SELECT COUNT(*) FROM users)::int8 AS users,
              (SELECT COUNT(*) FROM users WHERE disabled_at_ms IS NOT NULL)::int8 AS disabled,
              (SELECT COUNT(*) FROM sessions)::int8 AS sessions,
              (SELECT COUNT(*) FROM conversations WHERE kind = 'direct')::int8 AS direct,
              (SELECT COUNT(*) FROM conversations WHERE kind = 'group')::int8 AS grp,
              (SELECT COUNT(*) FROM conversations WHERE kind = 'room')::int8 AS room,
              (SELECT COUNT(*) FROM messages)::int8 AS messages,
              (SELECT COUNT(*) FROM attachments)::int8 AS attachments,
              (SELECT COALESCE(SUM(size), 0) FROM attachments)::int8 AS bytes,
              (SELECT COUNT(*) FROM users WHERE deleted_at_ms IS NOT NULL)::int8 AS deleted,
              (SELECT COUNT(*) FROM pushers)::int8 AS pushers`,
    );
    const r = rows[0]!;
    return {
      users: r.users,
      disabledUsers: r.disabled,
      sessions: r.sessions,
      conversations: { direct: r.direct, group: r.grp, room: r.room },
      messages: r.messages,
      attachments: r.attachments,
      attachmentBytes: r.bytes,
      deletedUsers: r.deleted,
      pushers: r.pushers,
    };
  }

  async migrations(): Promise<AppliedMigration[]> {
    const { rows } = await this.pool.query<{
      version: number;
      name: string;
      applied_at_ms: number;
    }>('SELECT version, name, applied_at_ms FROM schema_migrations ORDER BY version');
    return rows.map((r) => ({ version: r.version, name: r.name, appliedAtMs: r.applied_at_ms }));
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private change(
    username: string,
    update: (client: pg.PoolClient, userId: string) => Promise<unknown>,
    revoke = true,
  ): Promise<UserChange | null> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<UserRow>(
        'SELECT * FROM users WHERE username = $1 AND deleted_at_ms IS NULL FOR UPDATE',
        [username],
      );
      const row = rows[0];
      if (!row) return null;
      await update(client, row.id);
      if (!revoke) return { user: toUser(row), revokedDevices: [] };
      const deleted = await client.query<{ device: string }>(
        'DELETE FROM sessions WHERE user_id = $1 RETURNING device',
        [row.id],
      );
      // A device key would still let a copy of it past the login throttle's username budget.
      await client.query('DELETE FROM device_keys WHERE user_id = $1', [row.id]);
      return { user: toUser(row), revokedDevices: deleted.rows.map((d) => d.device) };
    });
  }
}
