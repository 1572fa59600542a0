// The SQLite AdminStore passes the AdminStore contract against a real SQLite file that the
// server's stores also have open.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { openSqliteStores } from './index.js';
import { runAdminStoreContract } from '../../admin/admin-store.contract.js';
import { SqliteAdminStore } from './sqlite-admin-store.js';

describe('SqliteAdminStore', () => {
  runAdminStoreContract({
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-admin-'));
      const file = join(dir, 'parley.db');
      const stores = await openSqliteStores({ file });
      const admin = SqliteAdminStore.open(file);
      return {
        admin,
        auth: stores.auth,
        messages: stores.messages,
        pushers: stores.pushers,
        close: async () => {
          await admin.close();
          await stores.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
});
