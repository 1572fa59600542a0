// Proves that an embedded node (one SQLite process) never loads the optional backends' packages (the AWS SDK, pg, ioredis, gRPC) nor the bench's autocannon, by recording every package a real `parley serve` process resolves, and that the recording sees a backend once it is configured.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import {
  cleanupServeProcesses,
  freshDir,
  killServeProcess,
  startServeProcess,
} from '../src/test-support/serve-process.js';

const RECORDER = fileURLToPath(new URL('./record-packages.mjs', import.meta.url));

/** What only a configured backend (or `parley bench`) may load. */
const OPTIONAL = [
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  'pg',
  'ioredis',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  'autocannon',
];

/** Starts `parley serve` with the recorder preloaded; returns the packages it resolved. */
async function packagesOfServe(env: Record<string, string> = {}): Promise<Set<string>> {
  const dir = freshDir('parley-lazy-');
  const out = join(dir, 'packages.txt');
  const server = await startServeProcess(join(dir, 'data'), {
    ...env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${RECORDER}`.trim(),
    RECORD_PACKAGES_OUT: out,
  });
  // The node answers: everything a request needs has been loaded by now.
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  await killServeProcess(server);
  return new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean));
}

describe('an embedded node', () => {
  after(cleanupServeProcesses);

  it('loads none of the optional backends, nor autocannon', async () => {
    const loaded = await packagesOfServe();
    // The recorder works: it saw packages every node imports, and one only required by another
    // package (fastify's avvio), as ioredis is required.
    for (const always of ['fastify', 'better-sqlite3', 'pino', 'avvio']) {
      assert.ok(loaded.has(always), `the recorder missed ${always}: ${[...loaded].join(', ')}`);
    }
    assert.deepEqual(
      OPTIONAL.filter((p) => loaded.has(p)),
      [],
    );
  });

  it('loads gRPC once it serves gRPC', async () => {
    const loaded = await packagesOfServe({
      PARLEY_GRPC_PORT: '0',
      PARLEY_GRPC_TOKEN: 'a-service-token-of-24ch',
    });
    assert.ok(loaded.has('@grpc/grpc-js'));
    assert.ok(loaded.has('@grpc/proto-loader'));
    assert.ok(!loaded.has('ioredis') && !loaded.has('pg'));
  });
});
