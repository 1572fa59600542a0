import type pg from 'pg';
import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import type {
  AuthStore,
  DeviceSession,
  LoginRecord,
  LoginSourceBounds,
  Session,
  User,
  UserWithSecret,
} from '../../auth/index.js';
import {
  toDeviceSession,
  toSession,
  toUser,
  toUserWithSecret,
  type DeviceSessionRow,
  type SessionRow,
  type UserRow,
} from '../rows.js';
import { inTransaction, isUniqueViolation } from './database.js';
import { PostgresLoginSources } from './postgres-login-sources.js';

/** The cluster AuthStore: accounts and sessions in PostgreSQL, shared by every node. */
export class PostgresAuthStore implements AuthStore {
  private readonly pool: pg.Pool;
  private readonly clock: Clock;
  private readonly sources: PostgresLoginSources;

  constructor(pool: pg.Pool, clock: Clock) {
    this.pool = pool;
    this.clock = clock;
    this.sources = new PostgresLoginSources(pool);
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

  async putSession(tokenHash: string, userId: string, device: string): Promise<void> {
    // One statement: the device's older session is replaced atomically, even under a race.
    await this.pool.query(
      `INSERT INTO sessions (token_hash, user_id, device, created_at_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, device)
       DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at_ms = EXCLUDED.created_at_ms`,
      [tokenHash, userId, device, this.clock.nowMs()],
    );
  }

  async findSession(tokenHash: string): Promise<Session | null> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT s.user_id, u.username, s.device, s.created_at_ms,
              COALESCE(s.last_seen_ms, s.created_at_ms) AS last_seen_ms
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND u.disabled_at_ms IS NULL`,
      [tokenHash],
    );
    const row = rows[0];
    return row ? toSession(row) : null;
  }

  async touchSession(userId: string, device: string, nowMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE sessions SET last_seen_ms = $1
        WHERE user_id = $2 AND device = $3 AND COALESCE(last_seen_ms, created_at_ms) < $1`,
      [nowMs, userId, device],
    );
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
    return (result.rowCount ?? 0) > 0;
  }

  async listSessions(userId: string): Promise<DeviceSession[]> {
    const { rows } = await this.pool.query<DeviceSessionRow>(
      `SELECT device, created_at_ms, COALESCE(last_seen_ms, created_at_ms) AS last_seen_ms
         FROM sessions WHERE user_id = $1
        ORDER BY created_at_ms DESC, device`,
      [userId],
    );
    return rows.map(toDeviceSession);
  }

  async deleteDeviceSession(userId: string, device: string): Promise<boolean> {
    const result = await this.pool.query(
      'DELETE FROM sessions WHERE user_id = $1 AND device = $2',
      [userId, device],
    );
    return (result.rowCount ?? 0) > 0;
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

  // Login sources: postgres-login-sources.ts.
  rememberLogin(login: LoginRecord, bounds: LoginSourceBounds): Promise<void> {
    return this.sources.rememberLogin(login, bounds);
  }

  isKnownAddress(userId: string, addressHash: string, sinceMs: number): Promise<boolean> {
    return this.sources.isKnownAddress(userId, addressHash, sinceMs);
  }

  isKnownDevice(
    userId: string,
    device: string,
    keyHash: string,
    sinceMs: number,
  ): Promise<boolean> {
    return this.sources.isKnownDevice(userId, device, keyHash, sinceMs);
  }

  forgetDeviceKeys(userId: string, which: { device: string } | { allBut: string }): Promise<void> {
    return this.sources.forgetDeviceKeys(userId, which);
  }

  forgetLoginSources(userId: string): Promise<void> {
    return this.sources.forgetLoginSources(userId);
  }

  /** The pool belongs to openPostgresStores, which ends it. */
  close(): Promise<void> {
    return Promise.resolve();
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
