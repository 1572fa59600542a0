import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import type { User, UserStore, UserWithSecret } from '../../auth/index.js';
import { toUser, toUserWithSecret, type UserRow } from '../rows.js';
import { inTransaction, isUniqueViolation } from './database.js';

/** The cluster UserStore (auth/store): accounts in PostgreSQL, shared by every node. */
export class PostgresUserStore implements UserStore {
  private readonly pool: pg.Pool;
  private readonly clock: Clock;

  constructor(pool: pg.Pool, clock: Clock) {
    this.pool = pool;
    this.clock = clock;
  }

  async createUser(username: string, passwordHash: string | null): Promise<User> {
    const user: User = { id: newId('u'), username, createdAtMs: this.clock.nowMs() };
    try {
      await this.pool.query(
        'INSERT INTO users (id, username, password_hash, created_at_ms) VALUES ($1, $2, $3, $4)',
        [user.id, user.username, passwordHash, user.createdAtMs],
      );
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ParleyError('username_taken', undefined, { cause: err });
      throw err;
    }
    return user;
  }

  async ensureUsers(usernames: readonly string[]): Promise<User[]> {
    // Sorted, so that concurrent calls take the username index's row locks in one order and
    // cannot deadlock; ON CONFLICT waits for a concurrent twin and then skips it.
    const names = [...new Set(usernames)].sort();
    const ids = names.map(() => newId('u'));
    await this.pool.query(
      `INSERT INTO users (id, username, password_hash, created_at_ms)
       SELECT t.id, t.username, NULL, $3 FROM unnest($1::text[], $2::text[]) AS t(id, username)
        ORDER BY t.username COLLATE "C"
       ON CONFLICT (username) DO NOTHING`,
      [ids, names, this.clock.nowMs()],
    );
    const byName = new Map(
      (await this.selectUsers('username', names)).map((row) => [row.username, toUser(row)]),
    );
    return usernames.map((name) => {
      const user = byName.get(name);
      if (!user) throw new Error(`ensureUsers: ${name} missing after insert`);
      return user;
    });
  }

  async findUserByUsername(username: string): Promise<UserWithSecret | null> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE username = $1', [
      username,
    ]);
    const row = rows[0];
    return row ? toUserWithSecret(row) : null;
  }

  async findUsersByUsernames(usernames: readonly string[]): Promise<User[]> {
    return (await this.selectUsers('username', usernames)).map(toUser);
  }

  async getUsers(ids: readonly string[]): Promise<User[]> {
    return (await this.selectUsers('id', ids)).map(toUser);
  }

  setPassword(userId: string, passwordHash: string, keepDevice: string): Promise<string[]> {
    return inTransaction(this.pool, async (client) => {
      const updated = await client.query('UPDATE users SET password_hash = $1 WHERE id = $2', [
        passwordHash,
        userId,
      ]);
      if ((updated.rowCount ?? 0) === 0) return [];
      const { rows } = await client.query<{ device: string }>(
        'DELETE FROM sessions WHERE user_id = $1 AND device <> $2 RETURNING device',
        [userId, keepDevice],
      );
      return rows.map((r) => r.device);
    });
  }

  deleteAccount(userId: string): Promise<string[]> {
    return inTransaction(this.pool, async (client) => {
      const now = this.clock.nowMs();
      const updated = await client.query(
        `UPDATE users SET password_hash = NULL, deleted_at_ms = COALESCE(deleted_at_ms, $1),
                disabled_at_ms = COALESCE(disabled_at_ms, $1)
          WHERE id = $2`,
        [now, userId],
      );
      if ((updated.rowCount ?? 0) === 0) return [];
      await client.query('DELETE FROM profiles WHERE user_id = $1', [userId]);
      const { rows } = await client.query<{ device: string }>(
        'DELETE FROM sessions WHERE user_id = $1 RETURNING device',
        [userId],
      );
      return rows.map((r) => r.device);
    });
  }

  private async selectUsers(
    column: 'id' | 'username',
    keys: readonly string[],
  ): Promise<UserRow[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.pool.query<UserRow>(
      `SELECT * FROM users WHERE ${column} = ANY($1::text[])`,
      [[...new Set(keys)]],
    );
    return rows;
  }
}
