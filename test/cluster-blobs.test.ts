// Proves that an attachment uploaded through one node of a real 2-node cluster (PostgreSQL, Redis,
// two `parley serve` processes) downloads byte-identical through the other, whole and by range,
// for its owner and for a member it was sent to: on S3 (s3rver) and on the filesystem store in one
// directory both nodes share (PARLEY_BLOB_DIR_SHARED=true).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { http } from '../src/test-support/server.js';
import {
  clusterSkip,
  newUser,
  openDirect,
  startCluster,
  type TestCluster,
  type User,
} from './cluster-harness.js';

const START_TIMEOUT_MS = 120_000;
/** Above the S3 multipart part size (5 MiB), so the S3 run takes the multipart path. */
const BLOB_BYTES = 5 * 1024 * 1024 + 4321;

interface Download {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** GET that keeps the body as bytes. */
function download(url: string, token: string, range?: string): Promise<Download> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (range !== undefined) headers.range = range;
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One upload through node 1, every read through node 2; returns the blob's hash. */
async function crossNodeRoundTrip(cluster: TestCluster, names: [string, string]): Promise<string> {
  const [node1, node2] = cluster.nodes;
  assert.ok(node1 && node2);
  const alice: User = await newUser(node1.url, names[0]);
  const bob: User = await newUser(node1.url, names[1]);
  const bytes = randomBytes(BLOB_BYTES);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  const up = await http('POST', `${node1.url}/v1/attachments?name=cat.png`, {
    token: alice.token,
    body: bytes,
    headers: { 'content-type': 'image/png' },
  });
  assert.equal(up.status, 201, up.text);
  assert.equal(up.json.sha256, sha256);
  const url2 = `${node2.url}/v1/attachments/${up.json.id as string}`;

  const whole = await download(url2, alice.token);
  assert.equal(whole.status, 200, whole.body.toString('utf8', 0, 300));
  assert.equal(whole.headers.etag, `"${sha256}"`);
  assert.equal(whole.body.length, bytes.length);
  assert.ok(whole.body.equals(bytes), 'node 2 serves the bytes node 1 took');

  const part = await download(url2, alice.token, 'bytes=5242870-5242899');
  assert.equal(part.status, 206);
  assert.ok(part.body.equals(bytes.subarray(5_242_870, 5_242_900)));

  // Sent through node 1 to bob, who reads it through node 2.
  const conversation = await openDirect(node1.url, alice, bob.username);
  const sent = await http('POST', `${node1.url}/v1/conversations/${conversation}/messages`, {
    token: alice.token,
    body: { ref: 'blob-1', body: { kind: 'image', attachment: up.json.id } },
  });
  assert.equal(sent.status, 201, sent.text);
  const bobs = await download(url2, bob.token);
  assert.equal(bobs.status, 200, bobs.body.toString('utf8', 0, 300));
  assert.ok(bobs.body.equals(bytes), 'the recipient gets the same bytes through node 2');
  return sha256;
}

describe('attachments across cluster nodes on S3', { skip: clusterSkip() }, () => {
  let cluster: TestCluster;
  before(
    async () => {
      cluster = await startCluster({ nodes: 2, blobs: 's3' });
    },
    { timeout: START_TIMEOUT_MS },
  );
  after(async () => {
    await cluster?.close();
  });

  it('uploads through node 1 and downloads byte-identical through node 2', async () => {
    const sha256 = await crossNodeRoundTrip(cluster, ['s3alice', 's3bob']);
    const s3 = cluster.s3;
    assert.ok(s3, 'the cluster runs on S3');
    const listed = await s3.server.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    assert.deepEqual(
      (listed.Contents ?? []).map((o) => o.Key),
      [sha256],
      'one object, in the bucket',
    );
    assert.equal(existsSync(join(cluster.dataDir, 'blobs')), false, 'nothing on local disk');
  });
});

describe(
  'attachments across cluster nodes on one shared directory',
  { skip: clusterSkip() },
  () => {
    let cluster: TestCluster;
    before(
      async () => {
        cluster = await startCluster({ nodes: 2, env: { PARLEY_BLOB_DIR_SHARED: 'true' } });
      },
      { timeout: START_TIMEOUT_MS },
    );
    after(async () => {
      await cluster?.close();
    });

    it('uploads through node 1 and downloads byte-identical through node 2', async () => {
      const sha256 = await crossNodeRoundTrip(cluster, ['fsalice', 'fsbob']);
      const file = join(cluster.dataDir, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
      assert.ok(existsSync(file), 'the blob is in the shared directory');
    });
  },
);
