import type pg from 'pg';

/**
 * A checked-out connection that dies between two queries (a restart, pg_terminate_backend, a
 * network cut) emits 'error' on the client, not on the pool, and with no listener that error
 * ends the process. The listener keeps it instead: the next query fails, so does the work, and
 * the caller releases the connection as broken. Returns the function that removes the listener.
 */
export function keepBroken(client: pg.PoolClient, onError: (err: Error) => void): () => void {
  client.on('error', onError);
  return () => client.off('error', onError);
}
