// Proves the attachments API through real HTTP on the filesystem backend: round trip, size and
// type refusals that store nothing, who may download (owner, members where it was sent; a
// stranger gets 404, as if the id did not exist), and byte ranges.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  openSqliteDatabase,
  openSqliteStores,
  type SqliteDb,
  type SqliteStores,
} from '../storage/sqlite/index.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { AttachmentsService } from './attachments-service.js';
import { FsBlobStore } from './fs-blob-store.js';

const BYTES_MAX = 64 * 1024;

function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  }
  return n;
}

/** GET that keeps the body as bytes. */
function download(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { headers: { ...headers, authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** POST with a chunked body (no Content-Length), so only the streaming check can stop it. */
function uploadChunked(url: string, token: string, type: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    // The server may close the connection once it has refused; that is the expected end.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err),
    );
    for (let i = 0; i < body.length; i += 8192) req.write(body.subarray(i, i + 8192));
    req.end();
  });
}

describe('attachments over HTTP (filesystem blobs)', () => {
  let server: TestServer;
  let stores: SqliteStores;
  let db: SqliteDb;
  let service: AttachmentsService;
  let alice: { token: string; userId: string };
  let bob: { token: string; userId: string };
  let carol: { token: string; userId: string };
  const blobDir = () => join(server.dataDir, 'blobs');

  before(async () => {
    server = await startTestServer({ PARLEY_ATTACHMENT_BYTES_MAX: String(BYTES_MAX) });
    alice = await register(server.url, 'alice');
    bob = await register(server.url, 'bob');
    carol = await register(server.url, 'carol');
    // A second handle on the server's own database and blob directory, for recordUse: a send of
    // an attachment kind calls it (messaging/message-kinds.test.ts); here the test calls it alone.
    stores = await openSqliteStores({ file: join(server.dataDir, 'parley.db') });
    db = openSqliteDatabase({ file: join(server.dataDir, 'parley.db') });
    service = new AttachmentsService({
      store: stores.attachments,
      blobs: await FsBlobStore.open(blobDir()),
      memberUntilUs: async (c, u) => {
        const m = await stores.messages.getMembership(c, u);
        return m === null ? -1 : m.leftSeq === null ? Number.POSITIVE_INFINITY : 0;
      },
      bytesMax: BYTES_MAX,
      types: ['image/*'],
    });
  });

  after(async () => {
    db.close();
    await stores.close();
    await server.close();
  });

  const upload = (token: string, body: Buffer, type = 'image/png', query = '') =>
    http('POST', `${server.url}/v1/attachments${query}`, {
      token,
      body,
      headers: { 'content-type': type },
    });

  it('round-trips bytes with their type, size, hash and name', async () => {
    const bytes = randomBytes(20_000);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const up = await upload(alice.token, bytes, 'image/png', '?name=cat%20%C3%A9t%C3%A9.png');
    assert.equal(up.status, 201, up.text);
    assert.equal(up.json.sha256, sha256);
    assert.equal(up.json.size, bytes.length);
    assert.equal(up.json.mime, 'image/png');
    assert.equal(up.json.name, 'cat été.png');
    assert.equal(up.json.owner, alice.userId);
    assert.match(up.json.id, /^a/);

    const got = await download(`${server.url}/v1/attachments/${up.json.id}`, alice.token);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(bytes));
    assert.equal(got.headers['content-type'], 'image/png');
    assert.equal(got.headers['content-length'], String(bytes.length));
    assert.equal(got.headers.etag, `"${sha256}"`);
    assert.equal(got.headers['accept-ranges'], 'bytes');
    assert.match(
      String(got.headers['content-disposition']),
      /^inline; filename="cat _t_.png"; filename\*=UTF-8''cat%20%C3%A9t%C3%A9\.png$/,
    );
    assert.ok(existsSync(join(blobDir(), sha256.slice(0, 2), sha256.slice(2, 4), sha256)));

    const meta = await http('GET', `${server.url}/v1/attachments/${up.json.id}/meta`, {
      token: alice.token,
    });
    assert.deepEqual(meta.json, up.json);

    const cached = await download(`${server.url}/v1/attachments/${up.json.id}`, alice.token, {
      'if-none-match': `"${sha256}"`,
    });
    assert.equal(cached.status, 304);
  });

  it('stores the same bytes once, under two attachment ids', async () => {
    const bytes = randomBytes(1000);
    const before = countFiles(blobDir());
    const a = await upload(alice.token, bytes);
    const b = await upload(bob.token, bytes, 'image/jpeg');
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.json.id, b.json.id);
    assert.equal(a.json.sha256, b.json.sha256);
    assert.equal(countFiles(blobDir()), before + 1);
  });

  it('refuses an oversize upload with 413 and stores nothing', async () => {
    const rowsBefore = countRows();
    const filesBefore = countFiles(blobDir());
    const declared = await upload(alice.token, randomBytes(BYTES_MAX + 1));
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error.code, 'attachment_too_large');
    // Without a Content-Length, the limit stops the stream itself.
    const status = await uploadChunked(
      `${server.url}/v1/attachments`,
      alice.token,
      'image/png',
      randomBytes(BYTES_MAX * 3),
    );
    assert.equal(status, 413);
    assert.equal(countFiles(blobDir()), filesBefore, 'no blob file, not even a temporary one');
    assert.equal(countRows(), rowsBefore, 'no metadata row');
  });

  it('refuses a type outside the allow-list with 415 and stores nothing', async () => {
    const rowsBefore = countRows();
    const filesBefore = countFiles(blobDir());
    const res = await upload(alice.token, Buffer.from('<html></html>'), 'text/html');
    assert.equal(res.status, 415);
    assert.equal(res.json.error.code, 'unsupported_media_type');
    const none = await http('POST', `${server.url}/v1/attachments`, {
      token: alice.token,
      body: Buffer.from('x'),
      headers: { 'content-type': 'nonsense' },
    });
    assert.equal(none.status, 415);
    assert.equal(countFiles(blobDir()), filesBefore);
    assert.equal(countRows(), rowsBefore);
  });

  it('refuses anonymous uploads and downloads with 401', async () => {
    const res = await http('POST', `${server.url}/v1/attachments`, {
      body: Buffer.from('x'),
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(res.status, 401);
    assert.equal((await http('GET', `${server.url}/v1/attachments/anything`)).status, 401);
  });

  it('hides an attachment from a stranger (404), shows it to members after recordUse', async () => {
    const bytes = randomBytes(3000);
    const up = await upload(alice.token, bytes);
    const url = `${server.url}/v1/attachments/${up.json.id}`;
    for (const who of [bob, carol]) {
      const res = await http('GET', url, { token: who.token });
      assert.equal(res.status, 404);
      assert.equal(res.json.error.code, 'attachment_not_found');
      assert.equal((await http('GET', `${url}/meta`, { token: who.token })).status, 404);
    }
    const direct = await http('POST', `${server.url}/v1/conversations`, {
      token: alice.token,
      body: { kind: 'direct', with: 'bob' },
    });
    assert.equal(direct.status, 201, direct.text);
    const conversationId = direct.json.id as string;

    // Carol may not send what she cannot read, nor into a conversation she is not in.
    await assert.rejects(service.recordUse(up.json.id, conversationId, carol.userId), {
      code: 'attachment_not_found',
    });
    await service.recordUse(up.json.id, conversationId, alice.userId);
    await service.recordUse(up.json.id, conversationId, alice.userId); // idempotent

    const got = await download(url, bob.token);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(bytes));
    assert.equal((await http('GET', `${url}/meta`, { token: bob.token })).status, 200);
    assert.equal((await http('GET', url, { token: carol.token })).status, 404);
    // Bob, now a reader, may forward it; but not into a conversation he is not a member of.
    await assert.rejects(service.recordUse(up.json.id, 'c-nope', bob.userId), {
      code: 'not_member',
    });
  });

  it('serves byte ranges: first bytes, suffix, open-ended; 416 outside', async () => {
    const bytes = randomBytes(1000);
    const up = await upload(alice.token, bytes);
    const url = `${server.url}/v1/attachments/${up.json.id}`;
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=-100', 900, 999],
      ['bytes=500-', 500, 999],
      ['bytes=990-5000', 990, 999],
      ['bytes=0-0', 0, 0],
    ];
    for (const [range, start, end] of cases) {
      const res = await download(url, alice.token, { range });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/1000`, range);
      assert.equal(res.headers['content-length'], String(end - start + 1), range);
      assert.ok(res.body.equals(bytes.subarray(start, end + 1)), range);
    }
    for (const range of ['bytes=1000-', 'bytes=5-2', 'bytes=-0', 'bytes=x-y']) {
      const res = await download(url, alice.token, { range });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers['content-range'], 'bytes */1000', range);
    }
    const whole = await download(url, alice.token, { range: 'items=0-1' });
    assert.equal(whole.status, 200);
    assert.equal(whole.body.length, 1000);
  });

  function countRows(): number {
    const row = db.prepare('SELECT COUNT(*) AS n FROM attachments').get() as { n: number };
    return row.n;
  }
});
