// Proves that the SQLite backend meets the AttachmentStore contract on a real database file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { runAttachmentStoreContract } from '../../attachments/attachment-store.contract.js';
import { openSqliteStores } from './index.js';

describe('SqliteAttachmentStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-attachments-'));
  let n = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  runAttachmentStoreContract(() => openSqliteStores({ file: join(dir, `${++n}.db`) }));
});
