// Proves the attachments API through real HTTP on the filesystem backend: round trip, size and
// type refusals that store nothing, who may download (owner, members where it was sent; a
// stranger gets 404, as if the id did not exist), and byte ranges. Downloads follow the member's
// read window as messages do: a late joiner of a history-from-join group gets 404 for what was
// sent before its join (until the group shows its full history), a former member for what was
// sent after it left, and every current member sees the group's current avatar.
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
import { memberWindowOf } from './member-window.js';

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
      memberWindowUs: memberWindowOf(stores.messages),
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

describe('attachments follow the member read window (real sends, history from the join)', () => {
  let server: TestServer;
  let owner: { token: string; userId: string };
  let early: { token: string; userId: string };
  let late: { token: string; userId: string };
  let group: string;

  before(async () => {
    server = await startTestServer();
    owner = await register(server.url, 'wanda');
    early = await register(server.url, 'xavi');
    late = await register(server.url, 'yuki');
    const res = await http('POST', `${server.url}/v1/conversations`, {
      token: owner.token,
      body: { kind: 'group', title: 'Window', members: ['xavi'], history: 'join' },
    });
    assert.equal(res.status, 201, res.text);
    group = res.json.id as string;
  });
  after(async () => {
    await server.close();
  });

  let refs = 0;
  /** Uploads an image as `who` and sends it to the group in an `image` message. */
  const sendImage = async (who: { token: string }): Promise<string> => {
    const up = await http('POST', `${server.url}/v1/attachments`, {
      token: who.token,
      body: randomBytes(500),
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(up.status, 201, up.text);
    const sent = await http('POST', `${server.url}/v1/conversations/${group}/messages`, {
      token: who.token,
      body: { ref: `img-${++refs}`, body: { kind: 'image', attachment: up.json.id } },
    });
    assert.equal(sent.status, 201, sent.text);
    return up.json.id as string;
  };
  const status = async (who: { token: string }, id: string): Promise<number> =>
    (await http('GET', `${server.url}/v1/attachments/${id}/meta`, { token: who.token })).status;
  const visibleSeqs = async (who: { token: string }): Promise<number[]> => {
    const res = await http('GET', `${server.url}/v1/conversations/${group}/messages`, {
      token: who.token,
    });
    assert.equal(res.status, 200, res.text);
    return (res.json.messages as { seq: number }[]).map((m) => m.seq);
  };
  const patch = async (body: unknown) => {
    const res = await http('PATCH', `${server.url}/v1/conversations/${group}`, {
      token: owner.token,
      body,
    });
    assert.equal(res.status, 200, res.text);
  };

  it('hides from a late joiner what was sent before its join, as its messages are hidden', async () => {
    const before = await sendImage(owner);
    const avatarUp = await http('POST', `${server.url}/v1/attachments`, {
      token: owner.token,
      body: randomBytes(300),
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(avatarUp.status, 201, avatarUp.text);
    const avatar = avatarUp.json.id as string;
    await patch({ avatar });
    const added = await http('POST', `${server.url}/v1/conversations/${group}/members`, {
      token: owner.token,
      body: { members: ['yuki'] },
    });
    assert.equal(added.status, 200, added.text);
    const after = await sendImage(early);

    // The messages: the late joiner's pages start after its join.
    assert.equal((await visibleSeqs(late)).includes(1), false);
    // The attachments, the same way.
    assert.equal(await status(late, before), 404, 'sent before the join');
    assert.equal(await status(late, after), 200, 'sent after the join');
    assert.equal(await status(early, before), 200, 'a member since the start');
    // The group's current avatar is part of the group every member sees.
    assert.equal(await status(late, avatar), 200, 'the current avatar');

    // A group that shows its full history shows it all, attachments included.
    await patch({ history: 'full' });
    assert.ok((await visibleSeqs(late)).includes(1));
    assert.equal(await status(late, before), 200, 'full history');
    await patch({ history: 'join' });
    assert.equal(await status(late, before), 404, 'from the join again');

    // Leaving ends the window: what is sent later stays out of reach, what came before stays.
    const left = await http('DELETE', `${server.url}/v1/conversations/${group}/members/me`, {
      token: late.token,
    });
    assert.equal(left.status, 200, left.text);
    const later = await sendImage(owner);
    assert.equal(await status(late, after), 200, 'sent while a member');
    assert.equal(await status(late, later), 404, 'sent after it left');
    assert.equal(await status(late, before), 404, 'still before its join');
  });
});
