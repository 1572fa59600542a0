import type pg from 'pg';
import type { SessionEnds } from '../../auth/index.js';

// SessionEnds on PostgreSQL: the log is filled by the triggers of migration 14; this only reads
// it. Times are the database's, so nodes' clocks do not matter.

const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

export class PostgresSessionEnds implements SessionEnds {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async endedWithin(ms: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ token_hash: string }>(
      `SELECT token_hash FROM session_ends WHERE ended_at_ms >= ${NOW_MS} - $1`,
      [ms],
    );
    return rows.map((r) => r.token_hash);
  }

  async prune(olderThanMs: number): Promise<void> {
    await this.pool.query(`DELETE FROM session_ends WHERE ended_at_ms < ${NOW_MS} - $1`, [
      olderThanMs,
    ]);
  }
}
