import pg from 'pg';
import { keepBroken } from './checkout.js';
import { POSTGRES_MIGRATIONS, migrate } from './migrations.js';

export interface PostgresOptions {
  readonly url: string;
  /** Connections in this node's pool (default 10). */
  readonly poolMax?: number;
  /** Told about errors of idle pooled connections (e.g. the server restarted). */
  readonly onIdleError?: (err: Error) => void;
}

const INT8_OID = 20;

// BIGINT (int8) arrives as a string by default, because it may exceed 2^53. Parley's int8
// columns hold seqs and times in microseconds, far below that, so they become numbers. The
// parser is set per pool rather than on pg's global registry, which other code may share.
function typeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID) return Number;
  return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
}
const types: pg.CustomTypesConfig = { getTypeParser: typeParser };

/** Opens a pool on the database and migrates it. */
export async function openPostgresPool(options: PostgresOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    types,
  });
  // Without a listener an idle connection's error would crash the process; the next query on
  // the pool gets a fresh connection, so reporting it is enough.
  pool.on('error', (err) => options.onIdleError?.(err));
  try {
    await migrate(pool, POSTGRES_MIGRATIONS);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
}

/** Runs `work` in one transaction on one pooled connection: COMMIT if it resolves, else ROLLBACK. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const detach = keepBroken(client, (err) => (broken ??= err));
  try {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection itself failed; it must not go back to the pool.
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      throw err;
    }
  } finally {
    detach();
    client.release(broken);
  }
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
function sqlState(err: unknown): string | undefined {
  return err instanceof pg.DatabaseError ? err.code : undefined;
}

/** True for a unique violation, of the given constraint (index) when one is named. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  return (
    sqlState(err) === '23505' &&
    (constraint === undefined || (err as pg.DatabaseError).constraint === constraint)
  );
}

export function isDeadlock(err: unknown): boolean {
  return sqlState(err) === '40P01';
}
