import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SQLITE_MIGRATIONS, type Migration } from './migrations.js';

export type SqliteDb = Database.Database;

export type SqliteSynchronous = 'normal' | 'full';

export interface SqliteOptions {
  readonly file: string;
  /**
   * `normal` (default): in WAL mode a commit survives a crash or kill -9 of the process, but the
   * last commits may be lost if the machine itself loses power. `full` fsyncs every commit, which
   * survives power loss and costs one fsync per group-commit batch (blocking the event loop).
   */
  readonly synchronous?: SqliteSynchronous;
}

/** Opens (creating if needed) the database file, sets it up for a server, and migrates it. */
export function openSqliteDatabase(options: SqliteOptions): SqliteDb {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  // Checkpoints run in a worker (checkpointer.ts); the automatic one, which would run inside a
  // commit and block the event loop, is only a fallback for a WAL grown past ~40 MB.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, SQLITE_MIGRATIONS);
  return db;
}

/** Applies, in one transaction each, the migrations newer than the file's recorded version. */
export function migrate(db: SqliteDb, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)`);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
    v: number | null;
  };
  const current = row.v ?? 0;
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare(
        'INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)',
      ).run(m.version, m.name, Date.now());
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}

/**
 * Runs synchronous SQLite work behind an async port. better-sqlite3 blocks, which is what we want
 * for short statements; the promise only keeps the port's shape, and turns a throw into a rejection.
 */
export function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
