import type { Statement } from 'better-sqlite3';
import { ParleyError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import type { User, UserStore, UserWithSecret } from '../../auth/index.js';
import { toUser, toUserWithSecret, type UserRow } from '../rows.js';
import { settle, type SqliteDb } from './database.js';
import { isUniqueViolation } from './errors.js';

/** The embedded UserStore (auth/store), on the same SQLite file as the messages. */
export class SqliteUserStore implements UserStore {
  private readonly db: SqliteDb;
  private readonly clock: Clock;
  private readonly q: Record<string, Statement>;

  constructor(db: SqliteDb, clock: Clock) {
    this.db = db;
    this.clock = clock;
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

  private lookup(keys: readonly string[], stmt: Statement): User[] {
    const users: User[] = [];
    for (const key of new Set(keys)) {
      const row = stmt.get(key) as UserRow | undefined;
      if (row) users.push(toUser(row));
    }
    return users;
  }
}
