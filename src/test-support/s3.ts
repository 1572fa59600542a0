// Test helper: a real S3-compatible server (s3rver, an npm devDependency that runs in this
// process and speaks the S3 REST API over HTTP) on 127.0.0.1 and a free port, storing its objects
// in a fresh temporary directory. MinIO is not packaged in Debian or npm, and nothing can be
// downloaded from elsewhere here; s3rver covers what Parley uses: PutObject, multipart uploads,
// HeadObject, ranged GetObject, ListObjectsV2.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export interface TestS3 {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** A client for test assertions (listing, bucket creation). */
  readonly client: S3Client;
  /** Creates an empty bucket and returns its name. */
  createBucket(): Promise<string>;
  stop(): Promise<void>;
}

let buckets = 0;

export async function startS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'parley-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  // s3rver accepts any signature made with its fixed key pair.
  const accessKeyId = 'S3RVER';
  const secretAccessKey = 'S3RVER';
  const region = 'us-east-1';
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let stopped = false;
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    client,
    createBucket: async () => {
      const name = `parley-test-${process.pid}-${++buckets}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
