import type { Readable } from 'node:stream';

/** What a put stored: the key (lowercase hex SHA-256 of the bytes) and the byte count. */
export interface PutResult {
  readonly sha256: string;
  readonly size: number;
  /** False when the same bytes were already stored (the put wrote nothing new). */
  readonly created: boolean;
}

/** An inclusive byte range, as in HTTP: `end` is the last byte, `start <= end < size`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface BlobStat {
  readonly size: number;
}

/**
 * Immutable, content-addressed bytes: the BlobStore seam of attachments.
 *
 * - `put` reads the whole source and stores it under the SHA-256 of its bytes, computed while
 *   streaming. It is idempotent: putting the same bytes again stores nothing new and returns the
 *   same key (`created: false`). A put resolves only once the object is durably visible to `get`
 *   and `stat` on every node that shares the store.
 * - The size limit is enforced while streaming: once more than `bytesMax` bytes have arrived, the
 *   put stops reading and rejects with `ParleyError('attachment_too_large')`. A put that fails for
 *   any reason (limit, source error, backend error) leaves no object, whole or partial, under any
 *   key a `get` can see. Concurrent puts of the same bytes are safe: both succeed, one object.
 * - `get` returns the object's bytes (or the inclusive `range` of them) as a stream, or null when
 *   there is no such object. The caller keeps the range inside the object (`stat` gives its
 *   size); a range outside it is a programmer error with unspecified results. The caller consumes or destroys
 *   the stream.
 * - `stat` gives the object's size, or null when there is none.
 * - Objects are never changed and never deleted by Parley (garbage collection is out of scope).
 * - `close` releases the store's resources; the owner calls it once, after the last use.
 */
export interface BlobStore {
  put(source: Readable, options: { readonly bytesMax: number }): Promise<PutResult>;
  get(sha256: string, range?: ByteRange): Promise<Readable | null>;
  stat(sha256: string): Promise<BlobStat | null>;
  close(): Promise<void>;
}

/** A BlobStore key: 64 lowercase hex characters. Anything else is never a stored object. */
export const SHA256_HEX_RE = /^[0-9a-f]{64}$/;
