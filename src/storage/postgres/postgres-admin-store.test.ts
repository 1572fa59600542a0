// The PostgreSQL AdminStore passes the AdminStore contract against a real PostgreSQL server
// (started by the test harness), beside the server's own stores on the same database.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { openPostgresStores } from './index.js';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../../engines/index.js';
import { runAdminStoreContract } from '../../admin/admin-store.contract.js';
import { PostgresAdminStore } from './postgres-admin-store.js';

describe('PostgresAdminStore', { skip: postgresSkipReason() ?? false }, () => {
  let server: TestPostgres | undefined;
  before(
    async () => {
      server = await startPostgres();
    },
    { timeout: 90_000 },
  );
  after(async () => {
    await server?.stop();
  });

  runAdminStoreContract({
    open: async () => {
      assert.ok(server, 'PostgreSQL started');
      const pg = server;
      const url = await pg.createDatabase();
      const stores = await openPostgresStores({ url });
      const admin = await PostgresAdminStore.open(url);
      return {
        admin,
        auth: stores.auth,
        messages: stores.messages,
        pushers: stores.pushers,
        close: async () => {
          await admin.close();
          await stores.close();
          await pg.dropDatabase(url);
        },
      };
    },
  });
});
