// The BlobStore contract (blob-store.ts), run by every backend against a real store.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import { isParleyError } from '../core/errors.js';
import type { BlobStore } from './blob-store.js';

export interface BlobStoreHarness {
  /** A fresh, empty store. */
  open(): Promise<BlobStore>;
  /** How many objects the backend holds, temporary ones included: proves "nothing left". */
  countObjects(store: BlobStore): Promise<number>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A source that yields `bytes` in chunks of `chunkBytes`, then optionally fails. */
function source(bytes: Buffer, chunkBytes = 64 * 1024, failAfter?: Error): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunkBytes) yield bytes.subarray(i, i + chunkBytes);
      if (failAfter) throw failAfter;
    })(),
  );
}

async function readAll(stream: Readable | null): Promise<Buffer> {
  assert.ok(stream, 'the object exists');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function runBlobStoreContract(h: BlobStoreHarness): void {
  async function withStore(work: (store: BlobStore) => Promise<void>): Promise<void> {
    const store = await h.open();
    try {
      await work(store);
    } finally {
      await store.close();
    }
  }

  it('stores bytes under their SHA-256 and gives them back', () =>
    withStore(async (store) => {
      const bytes = randomBytes(100_000);
      const put = await store.put(source(bytes), { bytesMax: 1 << 20 });
      assert.deepEqual(put, { sha256: sha256(bytes), size: bytes.length, created: true });
      assert.deepEqual(await store.stat(put.sha256), { size: bytes.length });
      assert.ok((await readAll(await store.get(put.sha256))).equals(bytes));
    }));

  it('is idempotent: the same bytes again store nothing new', () =>
    withStore(async (store) => {
      const bytes = randomBytes(5000);
      const first = await store.put(source(bytes), { bytesMax: 1 << 20 });
      const again = await store.put(source(bytes, 777), { bytesMax: 1 << 20 });
      assert.equal(again.sha256, first.sha256);
      assert.equal(again.created, false);
      assert.equal(await h.countObjects(store), 1);
    }));

  it('stores concurrent puts of the same bytes once', () =>
    withStore(async (store) => {
      const bytes = randomBytes(50_000);
      const puts = await Promise.all(
        [1, 2, 3].map(() => store.put(source(bytes, 4096), { bytesMax: 1 << 20 })),
      );
      assert.ok(puts.every((p) => p.sha256 === sha256(bytes)));
      assert.equal(await h.countObjects(store), 1);
      assert.ok((await readAll(await store.get(sha256(bytes)))).equals(bytes));
    }));

  it('stores an empty blob', () =>
    withStore(async (store) => {
      const put = await store.put(source(Buffer.alloc(0)), { bytesMax: 10 });
      assert.equal(put.size, 0);
      assert.deepEqual(await store.stat(put.sha256), { size: 0 });
      assert.equal((await readAll(await store.get(put.sha256))).length, 0);
    }));

  it('streams a blob larger than one S3 part (6 MiB)', () =>
    withStore(async (store) => {
      const bytes = randomBytes(6 << 20);
      const put = await store.put(source(bytes), { bytesMax: 8 << 20 });
      assert.equal(put.sha256, sha256(bytes));
      assert.ok((await readAll(await store.get(put.sha256))).equals(bytes));
    }));

  it('gives back inclusive byte ranges', () =>
    withStore(async (store) => {
      const bytes = randomBytes(10_000);
      const { sha256: key } = await store.put(source(bytes), { bytesMax: 1 << 20 });
      for (const [start, end] of [
        [0, 0],
        [0, 99],
        [1234, 5678],
        [9_999, 9_999],
        [0, 9_999],
      ] as const) {
        const got = await readAll(await store.get(key, { start, end }));
        assert.ok(got.equals(bytes.subarray(start, end + 1)), `range ${start}-${end}`);
      }
    }));

  it('answers null for a missing or malformed key', () =>
    withStore(async (store) => {
      const missing = sha256(Buffer.from('never stored'));
      assert.equal(await store.stat(missing), null);
      assert.equal(await store.get(missing), null);
      assert.equal(await store.get(missing, { start: 0, end: 0 }), null);
      assert.equal(await store.stat('../../etc/passwd'), null);
      assert.equal(await store.get('ABC'), null);
    }));

  it('accepts exactly bytesMax bytes', () =>
    withStore(async (store) => {
      const bytes = randomBytes(4096);
      const put = await store.put(source(bytes, 1000), { bytesMax: 4096 });
      assert.equal(put.size, 4096);
    }));

  it('refuses one byte over bytesMax while streaming and leaves nothing', () =>
    withStore(async (store) => {
      const bytes = randomBytes(4097);
      await assert.rejects(
        store.put(source(bytes, 1000), { bytesMax: 4096 }),
        (err) => isParleyError(err) && err.code === 'attachment_too_large',
      );
      assert.equal(await store.stat(sha256(bytes)), null);
      assert.equal(await h.countObjects(store), 0);
    }));

  it('stops reading an endless source at the limit', () =>
    withStore(async (store) => {
      let pulled = 0;
      const endless = Readable.from(
        (function* () {
          for (;;) {
            pulled += 1024;
            yield Buffer.alloc(1024, 1);
          }
        })(),
      );
      await assert.rejects(
        store.put(endless, { bytesMax: 100_000 }),
        (err) => isParleyError(err) && err.code === 'attachment_too_large',
      );
      assert.ok(pulled < 1_000_000, `read ${pulled} bytes`);
      assert.equal(await h.countObjects(store), 0);
    }));

  it('leaves nothing when the source fails midway', () =>
    withStore(async (store) => {
      const bytes = randomBytes(200_000);
      await assert.rejects(
        store.put(source(bytes, 10_000, new Error('client went away')), { bytesMax: 1 << 20 }),
        /client went away/,
      );
      assert.equal(await store.stat(sha256(bytes)), null);
      assert.equal(await h.countObjects(store), 0);
    }));
}
