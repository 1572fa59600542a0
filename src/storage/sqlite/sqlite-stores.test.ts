// Proves that the SQLite backend, on real database files, meets the AuthStore and MessageStore contracts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runAuthStoreContract } from '../../auth/auth-store.contract.js';
import { runMessageStoreContract } from '../../messaging/message-store.contract.js';
import type { StoreBundle } from '../../messaging/message-store.contract.js';
import { openSqliteStores } from './index.js';

/** A fresh database in its own temporary directory, removed again on close. */
async function open(): Promise<StoreBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
  try {
    const stores = await openSqliteStores({ file: join(dir, 'parley.db') });
    return {
      auth: stores.auth,
      messages: stores.messages,
      async close() {
        try {
          await stores.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

runAuthStoreContract({ open });
runMessageStoreContract({ open });
