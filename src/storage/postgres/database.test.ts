// The pool's checked-out connections against a real PostgreSQL whose backends are ended from
// outside (pg_terminate_backend, as an operator or a failover does): found by `parley verify`,
// where such a node died of an unhandled 'error' event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresSkipReason, startPostgres, type ControlledPostgres } from '../../engines/index.js';
import { inTransaction, openPostgresPool } from './database.js';

describe(
  'inTransaction when the connection is ended between two queries',
  { skip: postgresSkipReason() },
  () => {
    let server: ControlledPostgres;
    let url: string;
    before(async () => {
      server = await startPostgres();
      url = await server.createDatabase();
    });
    after(async () => server?.stop());

    it('fails the transaction and keeps the process alive', async () => {
      const pool = await openPostgresPool({ url, poolMax: 2 });
      try {
        const attempt = inTransaction(pool, async (client) => {
          await client.query('SELECT 1');
          // Ended while this connection waits between two queries: pg emits 'error' on the
          // client itself, which with no listener throws out of the event loop.
          assert.ok((await server.terminateBackends()) >= 1);
          await new Promise((resolve) => setTimeout(resolve, 300));
          await client.query('SELECT 2');
        });
        await assert.rejects(attempt);
        // The broken connection did not go back to the pool: the next transaction works.
        const value = await inTransaction(pool, async (c) => (await c.query('SELECT 3 AS n')).rows);
        assert.deepEqual(value, [{ n: 3 }]);
      } finally {
        await pool.end();
      }
    });
  },
);
