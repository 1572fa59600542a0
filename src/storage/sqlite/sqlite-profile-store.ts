import type { Statement } from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import {
  PREFIX_END,
  type Profile,
  type ProfilePatch,
  type ProfileStore,
  type SearchPage,
} from '../../users/index.js';
import { LIVE, PROFILE_SELECT, toProfile, type ProfileRow } from '../contact-rows.js';
import { settle, type SqliteDb } from './database.js';

/** The embedded ProfileStore. Prefix search is a range scan of the users.username index. */
export class SqliteProfileStore implements ProfileStore {
  private readonly db: SqliteDb;
  private readonly clock: Clock;
  private readonly byId: Statement;
  private readonly byName: Statement;
  private readonly search_: Statement;
  private readonly ensure: Statement;
  private readonly setters: readonly (readonly [keyof ProfilePatch, Statement])[];

  constructor(db: SqliteDb, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.byId = db.prepare(`${PROFILE_SELECT} WHERE u.id = ? AND ${LIVE}`);
    this.byName = db.prepare(`${PROFILE_SELECT} WHERE u.username = ? AND ${LIVE}`);
    // Both bounds on username, so SQLite walks the unique index from the first match.
    this.search_ = db.prepare(
      `${PROFILE_SELECT} WHERE u.username >= ? AND u.username < ? AND u.username > ? AND ${LIVE}
        ORDER BY u.username LIMIT ?`,
    );
    this.ensure = db.prepare(
      `INSERT INTO profiles (user_id, updated_at_ms) SELECT id, ? FROM users WHERE id = ?
       ON CONFLICT (user_id) DO UPDATE SET updated_at_ms = excluded.updated_at_ms`,
    );
    this.setters = COLUMNS.map(
      ([field, column]) =>
        [field, db.prepare(`UPDATE profiles SET ${column} = ? WHERE user_id = ?`)] as const,
    );
  }

  get(userId: string): Promise<Profile | null> {
    return settle(() => this.one(this.byId, userId));
  }

  getByUsername(username: string): Promise<Profile | null> {
    return settle(() => this.one(this.byName, username));
  }

  update(userId: string, patch: ProfilePatch): Promise<Profile | null> {
    return settle(() =>
      this.db
        .transaction(() => {
          if (this.ensure.run(this.clock.nowMs(), userId).changes === 0) return null;
          for (const [field, setter] of this.setters) {
            const value = patch[field];
            if (value !== undefined) setter.run(value, userId);
          }
          return this.one(this.byId, userId);
        })
        .immediate(),
    );
  }

  search(prefix: string, page: SearchPage): Promise<Profile[]> {
    return settle(() =>
      (
        this.search_.all(prefix, prefix + PREFIX_END, page.after ?? '', page.limit) as ProfileRow[]
      ).map(toProfile),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private one(stmt: Statement, key: string): Profile | null {
    const row = stmt.get(key) as ProfileRow | undefined;
    return row ? toProfile(row) : null;
  }
}

// Column names come from this fixed table, never from the request.
const COLUMNS: readonly (readonly [keyof ProfilePatch, string])[] = [
  ['displayName', 'display_name'],
  ['bio', 'bio'],
  ['avatar', 'avatar'],
];
