// Proves that S3BlobStore meets the BlobStore contract against a real S3-compatible server
// (s3rver, started by this test on 127.0.0.1; see test-support/s3.ts for why that one).
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { startS3, type TestS3 } from '../test-support/s3.js';
import type { BlobStore } from './blob-store.js';
import { runBlobStoreContract } from './blob-store.contract.js';
import { S3BlobStore } from './s3-blob-store.js';

describe('S3BlobStore', () => {
  let s3: TestS3 | undefined;
  const spoolBase = mkdtempSync(join(tmpdir(), 'parley-spool-'));
  const opened = new Map<BlobStore, { bucket: string; spoolDir: string }>();

  before(async () => {
    s3 = await startS3();
  });
  after(async () => {
    await s3?.stop();
    rmSync(spoolBase, { recursive: true, force: true });
  });

  runBlobStoreContract({
    open: async () => {
      assert.ok(s3, 'the S3 server started');
      const bucket = await s3.createBucket();
      const spoolDir = mkdtempSync(join(spoolBase, 'spool-'));
      const store = await S3BlobStore.open({
        endpoint: s3.endpoint,
        region: s3.region,
        bucket,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        forcePathStyle: true,
        spoolDir,
      });
      opened.set(store, { bucket, spoolDir });
      return store;
    },
    // Objects in the bucket plus spooled files left on local disk.
    countObjects: async (store) => {
      const where = opened.get(store);
      assert.ok(s3 && where);
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: where.bucket }));
      return (listed.KeyCount ?? 0) + readdirSync(where.spoolDir).length;
    },
  });
});
