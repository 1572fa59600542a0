// Proves that FsBlobStore, on a real temporary directory, meets the BlobStore contract.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { runBlobStoreContract } from './blob-store.contract.js';
import { FsBlobStore } from './fs-blob-store.js';

function countFiles(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    n += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  }
  return n;
}

describe('FsBlobStore', () => {
  const base = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
  const roots = new Map<FsBlobStore, string>();
  let opened = 0;
  after(() => rmSync(base, { recursive: true, force: true }));

  runBlobStoreContract({
    open: async () => {
      const root = join(base, String(++opened));
      const store = await FsBlobStore.open(root);
      roots.set(store, root);
      return store;
    },
    // Temporary files included: a failed put must not leave one either.
    countObjects: (store) => Promise.resolve(countFiles(roots.get(store as FsBlobStore) ?? '')),
  });
});
