import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../config/index.js';

// Before an admin command opens the store (which migrates, and so would create a database), it
// checks that the configured store already holds a Parley database. A mistyped data directory
// or URL would otherwise get a fresh, empty database, and `parley stats` would report zeros as if
// they were true. `parley migrate` alone may create one: creating the schema is its job, and it
// prints every migration it applies, so a typo shows.

const CREATE_HINT = 'or create one with "parley migrate"';

/** Why the configured store holds no Parley database (one line), or null when it does. */
export function missingDatabase(config: Config): Promise<string | null> {
  const store = config.store;
  switch (store.kind) {
    case 'sqlite':
      return Promise.resolve(missingSqlite(store.file));
    case 'postgres':
      return missingPostgres(store.url);
  }
}

function missingSqlite(file: string): string | null {
  const where = `check PARLEY_DATA_DIR (--data-dir), ${CREATE_HINT}`;
  if (!existsSync(file)) return `no Parley database at ${file}: ${where}`;
  let db: Database.Database | null = null;
  try {
    // Read-only: the check itself must not create or change anything.
    db = new Database(file, { readonly: true, fileMustExist: true });
    return hasSchema(db) ? null : `${file} holds no Parley database: ${where}`;
  } catch (err) {
    return `${file} is not a Parley database (${(err as Error).message}): ${where}`;
  } finally {
    db?.close();
  }
}

function hasSchema(db: Database.Database): boolean {
  const present = db
    .prepare(
      `SELECT COUNT(*) FROM sqlite_master
        WHERE type = 'table' AND name IN ('schema_migrations', 'users')`,
    )
    .pluck()
    .get() as number;
  return present === 2;
}

async function missingPostgres(url: string): Promise<string | null> {
  // The URL may carry a password: it never appears in what this says.
  const where = `check PARLEY_DATABASE_URL (--database-url), ${CREATE_HINT}`;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ present: boolean }>(
      `SELECT to_regclass('schema_migrations') IS NOT NULL
          AND to_regclass('users') IS NOT NULL AS present`,
    );
    return rows[0]?.present ? null : `the PostgreSQL database holds no Parley schema: ${where}`;
  } catch (err) {
    return `cannot read the PostgreSQL database (${(err as Error).message}): ${where}`;
  } finally {
    // A client whose connect failed has nothing left to close; its end() error says only that.
    await client.end().catch(() => undefined);
  }
}
