import type pg from 'pg';
import type { Clock } from '../../core/clock.js';
import {
  PREFIX_END,
  type Profile,
  type ProfilePatch,
  type ProfileStore,
  type SearchPage,
} from '../../users/index.js';
import { LIVE, PROFILE_SELECT, toProfile, type ProfileRow } from '../contact-rows.js';

// Column names come from this fixed table, never from the request.
const COLUMNS: readonly (readonly [keyof ProfilePatch, string])[] = [
  ['displayName', 'display_name'],
  ['bio', 'bio'],
  ['avatar', 'avatar'],
];

/**
 * The cluster ProfileStore. Usernames compare in byte order (COLLATE "C"), which the
 * users_username_c index (migration 3) serves, whatever the database's default collation.
 */
export class PostgresProfileStore implements ProfileStore {
  private readonly pool: pg.Pool;
  private readonly clock: Clock;

  constructor(pool: pg.Pool, clock: Clock) {
    this.pool = pool;
    this.clock = clock;
  }

  get(userId: string): Promise<Profile | null> {
    return this.one(`${PROFILE_SELECT} WHERE u.id = $1 AND ${LIVE}`, [userId]);
  }

  getByUsername(username: string): Promise<Profile | null> {
    return this.one(`${PROFILE_SELECT} WHERE u.username = $1 AND ${LIVE}`, [username]);
  }

  update(userId: string, patch: ProfilePatch): Promise<Profile | null> {
    const present = COLUMNS.filter(([field]) => patch[field] !== undefined);
    const values = present.map(([field]) => patch[field] ?? null);
    const columns = present.map(([, column]) => column);
    const params = present.map((_, i) => `$${i + 3}`);
    // One statement: creates the profile row on first edit, else changes only the given fields.
    return this.one(
      `WITH p AS (
         INSERT INTO profiles (user_id, updated_at_ms${columns.map((c) => `, ${c}`).join('')})
         SELECT id, $2${params.map((p) => `, ${p}`).join('')} FROM users WHERE id = $1
         ON CONFLICT (user_id) DO UPDATE SET updated_at_ms = EXCLUDED.updated_at_ms${columns
           .map((c) => `, ${c} = EXCLUDED.${c}`)
           .join('')}
         RETURNING *)
       SELECT u.id, u.username, p.display_name, p.bio, p.avatar, p.updated_at_ms
         FROM p JOIN users u ON u.id = p.user_id`,
      [userId, this.clock.nowMs(), ...values],
    );
  }

  async search(prefix: string, page: SearchPage): Promise<Profile[]> {
    const { rows } = await this.pool.query<ProfileRow>(
      `${PROFILE_SELECT}
        WHERE u.username COLLATE "C" >= $1 AND u.username COLLATE "C" < $2
          AND u.username COLLATE "C" > $3 AND ${LIVE}
        ORDER BY u.username COLLATE "C" LIMIT $4`,
      [prefix, prefix + PREFIX_END, page.after ?? '', page.limit],
    );
    return rows.map(toProfile);
  }

  /** The pool belongs to openPostgresStores, which ends it. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  private async one(sql: string, params: unknown[]): Promise<Profile | null> {
    const row = (await this.pool.query<ProfileRow>(sql, params)).rows[0];
    return row ? toProfile(row) : null;
  }
}
