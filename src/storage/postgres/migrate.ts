import type pg from 'pg';
import { keepBroken } from './checkout.js';

/** One step of the schema history (migrations.ts). */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// One key for the whole history: nodes that start together queue on it, and each migration is
// applied by exactly one of them. The lock is per database and released with its transaction.
const MIGRATION_LOCK_KEY = 0x7061726c; // "parl"

/**
 * Applies, one transaction each, the migrations newer than the database's recorded version.
 * Safe when several nodes start at once. Returns the versions this call applied.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[]): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  let broken: Error | undefined;
  const detach = keepBroken(client, (err) => (broken ??= err));
  try {
    for (;;) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        // Under the lock, so concurrent first starts do not race on creating it.
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)`);
        const { rows } = await client.query<{ v: number | null }>(
          'SELECT MAX(version) AS v FROM schema_migrations',
        );
        const current = rows[0]?.v ?? 0;
        const next = migrations.find((m) => m.version > current);
        if (next) {
          await client.query(next.sql);
          await client.query(
            'INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)',
            [next.version, next.name, Date.now()],
          );
        }
        await client.query('COMMIT');
        if (!next) return applied;
        applied.push(next.version);
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    detach();
    client.release(broken);
  }
}
