// Proves that the SQLite backend, on real database files, meets the AuthStores, ContactStore and
// ProfileStore contracts and those of the seven messaging store ports; the messaging ports twice:
// with appends on the calling thread, and on the append thread the server uses by default
// (append-thread.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runAuthStoreContract } from '../../auth/auth-store.contract.js';
import { runMessagingContracts } from '../../messaging/store/index.contract.js';
import type { StoreBundle } from '../../messaging/store/index.contract.js';
import { runContactStoreContract } from '../../contacts/contact-store.contract.js';
import type { ContactStoreBundle } from '../../contacts/contact-store.contract.js';
import { runProfileStoreContract } from '../../users/profile-store.contract.js';
import type { ProfileStoreBundle } from '../../users/profile-store.contract.js';
import { runPusherStoreContract } from '../../push/pusher-store.contract.js';
import type { PusherStoreBundle } from '../../push/pusher-store.contract.js';
import { runSessionEndsContract } from '../../auth/session-ends.contract.js';
import type { SessionEndsBundle } from '../../auth/session-ends.contract.js';
import { openSqliteStores } from './index.js';

/** A fresh database in its own temporary directory, removed again on close. */
async function open(
  appendThread = false,
): Promise<
  StoreBundle & ContactStoreBundle & ProfileStoreBundle & PusherStoreBundle & SessionEndsBundle
> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
  try {
    const stores = await openSqliteStores({
      file: join(dir, 'parley.db'),
      appendThread,
      onAppendThreadError: (message) => {
        throw new Error(`append thread failed: ${message}`);
      },
    });
    return {
      auth: stores.auth,
      messages: stores.messages,
      contacts: stores.contacts,
      profiles: stores.profiles,
      pushers: stores.pushers,
      sessionEnds: stores.sessionEnds,
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

runAuthStoreContract({ open: () => open() });
runMessagingContracts({ open: () => open() });
runMessagingContracts({ open: () => open(true), name: 'SQLite, append thread' });
runContactStoreContract({ open: () => open() });
runProfileStoreContract({ open: () => open() });
runSessionEndsContract({ open: () => open() });
runPusherStoreContract({ open: () => open() });
