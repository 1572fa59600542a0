import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ParleyError } from '../core/errors.js';

// Shared by every BlobStore backend: both first write the bytes to a local temporary file while
// hashing and counting them, and only then make the object visible under its hash (a rename on
// the filesystem, an upload to S3). The key is not known until the last byte has arrived.

export interface Spooled {
  readonly sha256: string;
  readonly size: number;
}

/** Counts and hashes what passes, and fails the pipeline once more than `bytesMax` bytes pass. */
class Meter extends Transform {
  private readonly hash = createHash('sha256');
  private readonly bytesMax: number;
  size = 0;

  constructor(bytesMax: number) {
    super();
    this.bytesMax = bytesMax;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.bytesMax) {
      done(
        new ParleyError('attachment_too_large', `An attachment is at most ${this.bytesMax} bytes.`),
      );
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Streams `source` into a new file at `path` (which must not exist), hashing and counting it.
 * On any failure the file is removed and the source destroyed, so nothing is left behind.
 */
export async function spoolToFile(
  source: Readable,
  path: string,
  bytesMax: number,
): Promise<Spooled> {
  const meter = new Meter(bytesMax);
  // Opened before streaming, so that no asynchronous open can recreate the file after the rm.
  const handle = await open(path, 'wx');
  try {
    await pipeline(source, meter, handle.createWriteStream());
  } catch (err) {
    await handle.close(); // a no-op when the stream has closed it already
    await rm(path, { force: true });
    throw err;
  }
  return { sha256: meter.digest(), size: meter.size };
}
