// Runs the real `parley backup` command against a real embedded server while it takes sends, then
// starts a second server on the copy: every message acknowledged before the backup began is there,
// with dense seqs and the same ids and texts, and an uploaded attachment downloads with the same
// bytes. Proves that a backup refuses a non-empty target and a PostgreSQL store, changing nothing.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { runCli } from '../test-support/cli-process.js';

/** Sends while the backup runs: at most this many, for at most this long. */
const DURING_MAX = 20_000;
const DURING_MS = 30_000;

describe('parley backup (SQLite)', () => {
  let dataDir: string;
  let target: string;
  let server: TestServer;
  let restored: TestServer | null = null;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-backup-src-'));
    target = join(mkdtempSync(join(tmpdir(), 'parley-backup-dst-')), 'copy');
    server = await startTestServer({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_SEND_RATE_PER_SEC: '100000',
      PARLEY_SEND_BURST_MAX: '100000',
    });
  });

  after(async () => {
    await restored?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(join(target, '..'), { recursive: true, force: true });
  });

  it('copies a running server: every acknowledged message and attachment is in the copy', async () => {
    const alice = await register(server.url, 'bk_alice', 'correct horse battery', 'laptop');
    await register(server.url, 'bk_bob');
    const opened = await http('POST', `${server.url}/v1/conversations`, {
      token: alice.token,
      body: { kind: 'direct', with: 'bk_bob' },
    });
    assert.equal(opened.status, 201, opened.text);
    const conversation = opened.json.id as string;
    const acked = new Map<number, { id: string; text: string }>();
    let n = 0;
    const send = async () => {
      const text = `message ${++n}`;
      const res = await http('POST', `${server.url}/v1/conversations/${conversation}/messages`, {
        token: alice.token,
        body: { ref: `r${n}`, body: { kind: 'text', text } },
      });
      assert.equal(res.status, 201, res.text);
      acked.set(res.json.seq as number, { id: res.json.id as string, text });
    };
    for (let i = 0; i < 50; i++) await send();
    const bytes = randomBytes(2048);
    const upload = await http('POST', `${server.url}/v1/attachments`, {
      token: alice.token,
      body: bytes,
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(upload.status, 201, upload.text);

    // Sends keep coming while the copy is taken.
    const ackedBefore = new Set(acked.keys());
    let backupDone = false;
    const writer = (async () => {
      const until = Date.now() + DURING_MS;
      for (let i = 0; i < DURING_MAX && !backupDone && Date.now() < until; i++) await send();
    })();
    const result = await runCli(['backup', target], { env: { PARLEY_DATA_DIR: dataDir } });
    backupDone = true;
    await writer;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(acked.size > ackedBefore.size, 'sends were acknowledged while the command ran');
    assert.match(result.stdout, /^backed up .*parley\.db \(\d+ bytes: 2 users, \d+ messages\)$/m);
    assert.match(result.stdout, /^copied 1 attachment files$/m);
    assert.deepEqual(readdirSync(target).sort(), ['blobs', 'parley.db']);

    restored = await startTestServer({ PARLEY_DATA_DIR: target });
    const login = await http('POST', `${restored.url}/v1/auth/login`, {
      body: { username: 'bk_alice', password: 'correct horse battery', device: 'laptop' },
    });
    assert.equal(login.status, 200, login.text);
    const token = login.json.token as string;
    const copied: { seq: number; id: string; body: { text: string } }[] = [];
    for (let after = 0, page = 0; page < 100; page++) {
      const res: { status: number; text: string; json: any } = await http(
        'GET',
        `${restored.url}/v1/conversations/${conversation}/messages?after=${after}&limit=100`,
        { token },
      );
      assert.equal(res.status, 200, res.text);
      copied.push(...res.json.messages);
      if (!res.json.hasMore) break;
      after = copied.at(-1)!.seq;
    }
    assert.deepEqual(
      copied.map((m) => m.seq),
      copied.map((_, i) => i + 1),
      'dense seqs from 1',
    );
    for (const seq of ackedBefore) assert.ok(seq <= copied.length, `seq ${seq} is in the copy`);
    for (const m of copied) {
      assert.deepEqual({ id: m.id, text: m.body.text }, acked.get(m.seq), `seq ${m.seq}`);
    }
    const download = await fetch(`${restored.url}/v1/attachments/${upload.json.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(download.status, 200);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(new Uint8Array(await download.arrayBuffer())), sha(bytes));
  });

  it('refuses a non-empty target and a PostgreSQL store, writing nothing', async () => {
    const before = readdirSync(target).sort();
    const again = await runCli(['backup', target], { env: { PARLEY_DATA_DIR: dataDir } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty/);
    assert.deepEqual(readdirSync(target).sort(), before);

    const elsewhere = join(target, '..', 'pg');
    const pg = await runCli(['backup', elsewhere], {
      env: { PARLEY_DATABASE_URL: 'postgres://parley@127.0.0.1:1/parley' },
    });
    assert.equal(pg.code, 2);
    assert.match(pg.stderr, /pg_dump/);
    assert.deepEqual(readdirSync(join(target, '..')), ['copy']);

    const usage = await runCli(['backup'], { env: { PARLEY_DATA_DIR: dataDir } });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /backup needs exactly one target directory/);
  });
});
