import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  SHA256_HEX_RE,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type PutResult,
} from './blob-store.js';
import { spoolToFile } from './spool.js';

export interface S3BlobStoreOptions {
  /** The server's URL, e.g. `http://127.0.0.1:9000`; absent for AWS itself. */
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** Absent: the SDK's default chain (environment, profile, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; most self-hosted servers need it. */
  readonly forcePathStyle: boolean;
  /** Where uploads are spooled before they go to S3 (default: the OS temporary directory). */
  readonly spoolDir?: string;
}

/**
 * The BlobStore on any S3-compatible object store, one object per blob, keyed by its SHA-256.
 *
 * The key is the hash of the bytes, so it is known only once the last byte has arrived. A put
 * therefore spools the upload to a local temporary file while hashing and counting it (the size
 * limit stops it there, before anything reaches S3), then asks S3 whether that key exists, and
 * uploads only if it does not. The upload itself is atomic in S3: a PutObject, or a multipart
 * upload above the part size, is visible whole only after it completes, and a failed multipart
 * upload is aborted. So a failed put leaves no object in the bucket and at most nothing locally.
 * The cost is local disk for uploads in flight, bounded by the attachment size limit each.
 */
/** The AWS SDK modules the store uses, loaded by `open` only (about 22 MB of code). */
interface S3Sdk {
  readonly s3: typeof import('@aws-sdk/client-s3');
  readonly storage: typeof import('@aws-sdk/lib-storage');
}

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly spoolDir: string;

  /** Loads the AWS SDK, which a node without S3 never does, and makes the store. */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const [s3, storage] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('@aws-sdk/lib-storage'),
    ]);
    return new S3BlobStore(options, { s3, storage });
  }

  private constructor(
    options: S3BlobStoreOptions,
    private readonly sdk: S3Sdk,
  ) {
    this.client = new sdk.s3.S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.credentials && {
        credentials: {
          accessKeyId: options.credentials.accessKeyId,
          secretAccessKey: options.credentials.secretAccessKey,
        },
      }),
      // Newer SDKs add CRC checksums (and aws-chunked bodies) to every request by default;
      // several S3-compatible servers reject them. The SHA-256 key already proves the content.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.bucket = options.bucket;
    this.spoolDir = options.spoolDir ?? tmpdir();
  }

  async put(source: Readable, options: { readonly bytesMax: number }): Promise<PutResult> {
    const temp = join(this.spoolDir, `parley-blob-${randomBytes(12).toString('hex')}`);
    const { sha256, size } = await spoolToFile(source, temp, options.bytesMax);
    try {
      if (await this.stat(sha256)) return { sha256, size, created: false };
      const upload = new this.sdk.storage.Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: sha256,
          Body: createReadStream(temp),
          ContentLength: size,
          ContentType: 'application/octet-stream',
        },
        leavePartsOnError: false,
      });
      await upload.done();
      return { sha256, size, created: true };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable | null> {
    if (!SHA256_HEX_RE.test(sha256)) return null;
    if (range && (range.start < 0 || range.start > range.end)) {
      throw new RangeError(`range ${range.start}-${range.end} is not valid`);
    }
    try {
      const out = await this.client.send(
        new this.sdk.s3.GetObjectCommand({
          Bucket: this.bucket,
          Key: sha256,
          ...(range && { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
      if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject gave no Node stream');
      if (!range) return out.Body;
      const served = /^bytes (\d+)-(\d+)\//.exec(out.ContentRange ?? '');
      const length = range.end - range.start + 1;
      if (Number(served?.[1] ?? 0) !== range.start) {
        out.Body.destroy();
        throw new Error(`S3 served range ${out.ContentRange} for ${range.start}-${range.end}`);
      }
      // Some S3-compatible servers answer a one-byte range ("bytes=0-0") with more bytes than
      // asked (s3rver does); the extra bytes are cut here rather than sent to a client.
      return out.ContentLength === length ? out.Body : Readable.from(take(out.Body, length));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async stat(sha256: string): Promise<BlobStat | null> {
    if (!SHA256_HEX_RE.test(sha256)) return null;
    try {
      const out = await this.client.send(
        new this.sdk.s3.HeadObjectCommand({ Bucket: this.bucket, Key: sha256 }),
      );
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

/** The first `length` bytes of `source`; leaving the loop early destroys the source. */
async function* take(source: Readable, length: number): AsyncGenerator<Buffer> {
  let left = length;
  for await (const chunk of source) {
    const bytes = chunk as Buffer;
    if (bytes.length >= left) {
      yield bytes.subarray(0, left);
      return;
    }
    left -= bytes.length;
    yield bytes;
  }
}

/** HeadObject answers a missing key with a bare 404 (no error code); GetObject with NoSuchKey. */
function isNotFound(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 404;
}
