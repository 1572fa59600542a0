import type { Statement } from 'better-sqlite3';
import type { SessionEnds } from '../../auth/index.js';
import { settle, type SqliteDb } from './database.js';

// SessionEnds on SQLite: the log is filled by the triggers of migration 14; this only reads it.

const NOW_MS = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;

export class SqliteSessionEnds implements SessionEnds {
  private readonly recent: Statement;
  private readonly old: Statement;

  constructor(db: SqliteDb) {
    this.recent = db
      .prepare(`SELECT token_hash FROM session_ends WHERE ended_at_ms >= ${NOW_MS} - ?`)
      .pluck();
    this.old = db.prepare(`DELETE FROM session_ends WHERE ended_at_ms < ${NOW_MS} - ?`);
  }

  endedWithin(ms: number): Promise<string[]> {
    return settle(() => this.recent.all(ms) as string[]);
  }

  prune(olderThanMs: number): Promise<void> {
    return settle(() => void this.old.run(olderThanMs));
  }
}
