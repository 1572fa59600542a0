import type { Statement } from 'better-sqlite3';
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
import { settle, type SqliteDb } from './database.js';
import { isUniqueViolation } from './errors.js';
import { SqliteLoginSources } from './sqlite-login-sources.js';

/** The embedded AuthStore on the same SQLite file as the messages. */
export class SqliteAuthStore implements AuthStore {
  private readonly db: SqliteDb;
  private readonly clock: Clock;
  private readonly q: Record<string, Statement>;
  private readonly sources: SqliteLoginSources;

  constructor(db: SqliteDb, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.sources = new SqliteLoginSources(db);
    this.q = {
      insertUser: db.prepare(
        'INSERT INTO users (id, username, password_hash, created_at_ms) VALUES (?, ?, ?, ?)',
      ),
      insertUserIfMissing: db.prepare(
        `INSERT INTO users (id, username, password_hash, created_at_ms) VALUES (?, ?, NULL, ?)
         ON CONFLICT (username) DO NOTHING`,
      ),
      userByName: db.prepare('SELECT * FROM users WHERE username = ?'),
      userById: db.prepare('SELECT * FROM users WHERE id = ?'),
      deleteDeviceSession: db.prepare('DELETE FROM sessions WHERE user_id = ? AND device = ?'),
      insertSession: db.prepare(
        'INSERT INTO sessions (token_hash, user_id, device, created_at_ms) VALUES (?, ?, ?, ?)',
      ),
      session: db.prepare(
        `SELECT s.user_id, u.username, s.device, s.created_at_ms,
                COALESCE(s.last_seen_ms, s.created_at_ms) AS last_seen_ms
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = ? AND u.disabled_at_ms IS NULL`,
      ),
      touchSession: db.prepare(
        `UPDATE sessions SET last_seen_ms = ?
          WHERE user_id = ? AND device = ? AND COALESCE(last_seen_ms, created_at_ms) < ?`,
      ),
      deleteSession: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
      sessionsOf: db.prepare(
        `SELECT device, created_at_ms, COALESCE(last_seen_ms, created_at_ms) AS last_seen_ms
           FROM sessions WHERE user_id = ?
          ORDER BY created_at_ms DESC, device`,
      ),
      setPassword: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
      deleteUser: db.prepare(
        `UPDATE users SET password_hash = NULL, deleted_at_ms = COALESCE(deleted_at_ms, @now),
                disabled_at_ms = COALESCE(disabled_at_ms, @now)
          WHERE id = @userId`,
      ),
      endSessions: db.prepare('DELETE FROM sessions WHERE user_id = ? RETURNING device').pluck(),
      dropProfile: db.prepare('DELETE FROM profiles WHERE user_id = ?'),
      endOtherSessions: db
        .prepare('DELETE FROM sessions WHERE user_id = ? AND device <> ? RETURNING device')
        .pluck(),
    };
  }

  createUser(username: string, passwordHash: string | null): Promise<User> {
    return settle(() => {
      const user: User = { id: newId('u'), username, createdAtMs: this.clock.nowMs() };
      try {
        this.q.insertUser!.run(user.id, user.username, passwordHash, user.createdAtMs);
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ParleyError('username_taken', undefined, { cause: err });
        throw err;
      }
      return user;
    });
  }

  ensureUsers(usernames: readonly string[]): Promise<User[]> {
    return settle(() => {
      return this.db
        .transaction(() =>
          usernames.map((name) => {
            this.q.insertUserIfMissing!.run(newId('u'), name, this.clock.nowMs());
            return toUser(this.q.userByName!.get(name) as UserRow);
          }),
        )
        .immediate();
    });
  }

  findUserByUsername(username: string): Promise<UserWithSecret | null> {
    return settle(() => {
      const row = this.q.userByName!.get(username) as UserRow | undefined;
      return row ? toUserWithSecret(row) : null;
    });
  }

  findUsersByUsernames(usernames: readonly string[]): Promise<User[]> {
    return settle(() => {
      return this.lookup(usernames, this.q.userByName!);
    });
  }

  getUsers(ids: readonly string[]): Promise<User[]> {
    return settle(() => {
      return this.lookup(ids, this.q.userById!);
    });
  }

  putSession(tokenHash: string, userId: string, device: string): Promise<void> {
    return settle(() => {
      this.db
        .transaction(() => {
          this.q.deleteDeviceSession!.run(userId, device);
          this.q.insertSession!.run(tokenHash, userId, device, this.clock.nowMs());
        })
        .immediate();
    });
  }

  findSession(tokenHash: string): Promise<Session | null> {
    return settle(() => {
      const row = this.q.session!.get(tokenHash) as SessionRow | undefined;
      return row ? toSession(row) : null;
    });
  }

  touchSession(userId: string, device: string, nowMs: number): Promise<void> {
    return settle(() => void this.q.touchSession!.run(nowMs, userId, device, nowMs));
  }

  deleteSession(tokenHash: string): Promise<boolean> {
    return settle(() => {
      return this.q.deleteSession!.run(tokenHash).changes > 0;
    });
  }

  listSessions(userId: string): Promise<DeviceSession[]> {
    return settle(() =>
      (this.q.sessionsOf!.all(userId) as DeviceSessionRow[]).map(toDeviceSession),
    );
  }

  deleteDeviceSession(userId: string, device: string): Promise<boolean> {
    return settle(() => this.q.deleteDeviceSession!.run(userId, device).changes > 0);
  }

  setPassword(userId: string, passwordHash: string, keepDevice: string): Promise<string[]> {
    return settle(() =>
      this.db
        .transaction(() => {
          if (this.q.setPassword!.run(passwordHash, userId).changes === 0) return [];
          return this.q.endOtherSessions!.all(userId, keepDevice) as string[];
        })
        .immediate(),
    );
  }

  deleteAccount(userId: string): Promise<string[]> {
    return settle(() =>
      this.db
        .transaction(() => {
          if (this.q.deleteUser!.run({ now: this.clock.nowMs(), userId }).changes === 0) return [];
          this.q.dropProfile!.run(userId);
          return this.q.endSessions!.all(userId) as string[];
        })
        .immediate(),
    );
  }

  // Login sources: sqlite-login-sources.ts.
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

  close(): Promise<void> {
    return Promise.resolve();
  }

  private lookup(keys: readonly string[], stmt: Statement): User[] {
    const users: User[] = [];
    for (const key of new Set(keys)) {
      const row = stmt.get(key) as UserRow | undefined;
      if (row) users.push(toUser(row));
    }
    return users;
  }
}
