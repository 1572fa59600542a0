// Proves that the PostgreSQL backend meets the AttachmentStore contract on a real server.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { runAttachmentStoreContract } from '../../attachments/attachment-store.contract.js';
import { postgresSkipReason, startPostgres, type TestPostgres } from '../../engines/index.js';
import { openPostgresStores } from './index.js';

describe('PostgresAttachmentStore', { skip: postgresSkipReason() ?? false }, () => {
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

  runAttachmentStoreContract(async () => {
    assert.ok(server, 'PostgreSQL started');
    const pg = server;
    const url = await pg.createDatabase();
    const stores = await openPostgresStores({ url });
    return {
      ...stores,
      close: async () => {
        await stores.close();
        await pg.dropDatabase(url);
      },
    };
  });
});
