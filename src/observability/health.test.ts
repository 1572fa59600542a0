// Proves /healthz and /readyz: alive and ready on a working node; not ready while draining,
// both in process (drain()) and after a real SIGTERM to `parley serve`; not ready when the
// PostgreSQL store stops, or when Redis stops in cluster mode, while /healthz stays up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServeProcess } from '../test-support/cli-process.js';
import { describeWithPostgresAndRedis } from '../test-support/backends.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { sleep, withTimeout } from '../test-support/wait.js';

const WAIT_MS = 15_000;

interface ReadyBody {
  status: string;
  draining: boolean;
  checks: Record<string, string>;
}

/** Polls /readyz until it answers `status`, or fails after WAIT_MS. */
async function readyzUntil(url: string, status: number) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await http<ReadyBody>('GET', `${url}/readyz`);
    if (res.status === status || Date.now() > deadline) return res;
    await sleep(50);
  }
}

describe('health on a single node', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('/healthz says the process is alive', async () => {
    const res = await http('GET', `${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
  });

  it('/readyz is ready when the store answers', async () => {
    const res = await http<ReadyBody>('GET', `${server.url}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ready', draining: false, checks: { store: 'ok' } });
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('/readyz is 503 once the node drains; /healthz stays 200', async () => {
    const other = await startTestServer();
    try {
      other.drain();
      const res = await http<ReadyBody>('GET', `${other.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(res.json, { status: 'not_ready', draining: true, checks: { store: 'ok' } });
      assert.equal((await http('GET', `${other.url}/healthz`)).status, 200);
    } finally {
      await other.close();
    }
  });
});

describe('health of `parley serve` after SIGTERM', () => {
  it('answers /readyz 503 during the drain delay, then exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-drain-'));
    const server = await startServeProcess({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_DRAIN_DELAY_MS: '3000',
    });
    try {
      assert.equal((await http('GET', `${server.url}/readyz`)).status, 200);
      server.child.kill('SIGTERM');
      const res = await readyzUntil(server.url, 503);
      assert.equal(res.status, 503);
      assert.equal(res.json.draining, true);
      // Still serving while it drains: liveness holds, requests are answered.
      assert.equal((await http('GET', `${server.url}/healthz`)).status, 200);
      assert.equal(await withTimeout(server.exited, WAIT_MS, 'exit after SIGTERM'), 0);
    } finally {
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describeWithPostgresAndRedis('readiness against real PostgreSQL and Redis', (backends) => {
  it('is not ready while Redis is down, and ready again when it is back', async () => {
    const { pg, redis } = backends();
    const server = await startTestServer({
      PARLEY_DATABASE_URL: await pg.createDatabase(),
      PARLEY_REDIS_URL: redis.url,
      // A lone cluster node: no other node needs its attachment directory.
      PARLEY_BLOB_DIR_SHARED: 'true',
    });
    try {
      const ok = await http<ReadyBody>('GET', `${server.url}/readyz`);
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.json.checks, { store: 'ok', bus: 'ok' });
      await redis.kill();
      const down = await readyzUntil(server.url, 503);
      assert.equal(down.status, 503);
      assert.deepEqual(down.json.checks, { store: 'ok', bus: 'failed' });
      assert.equal((await http('GET', `${server.url}/healthz`)).status, 200);
      await redis.start();
      assert.equal((await readyzUntil(server.url, 200)).status, 200);
    } finally {
      await server.close();
    }
  });

  // Last: it stops the PostgreSQL server for good.
  it('is not ready once PostgreSQL stops', async () => {
    const { pg } = backends();
    const server = await startTestServer({ PARLEY_DATABASE_URL: await pg.createDatabase() });
    try {
      assert.equal((await http('GET', `${server.url}/readyz`)).status, 200);
      await pg.stop();
      const down = await readyzUntil(server.url, 503);
      assert.equal(down.status, 503);
      assert.deepEqual(down.json, {
        status: 'not_ready',
        draining: false,
        checks: { store: 'failed' },
      });
      assert.equal((await http('GET', `${server.url}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});
