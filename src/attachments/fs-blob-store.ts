import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  SHA256_HEX_RE,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type PutResult,
} from './blob-store.js';
import { spoolToFile } from './spool.js';

/** Temporary files older than this at open are leftovers of a crash, not uploads in progress. */
const STALE_TMP_MS = 60 * 60_000;

/**
 * The single-node default BlobStore: one file per object under `<root>/ab/cd/<sha256>` (two
 * levels of fan-out keep directories small). A put writes `<root>/tmp/<random>`, fsyncs it and
 * renames it into place: rename is atomic within one filesystem, so a reader sees the whole
 * object or none, and a crash leaves at most a temporary file, which the next open removes.
 */
export class FsBlobStore implements BlobStore {
  private readonly root: string;
  private readonly tmp: string;

  private constructor(root: string) {
    this.root = root;
    this.tmp = join(root, 'tmp');
  }

  /** Creates `root` if needed and removes temporary files a crash left behind. */
  static async open(root: string): Promise<FsBlobStore> {
    const store = new FsBlobStore(root);
    await mkdir(store.tmp, { recursive: true });
    const now = Date.now();
    for (const name of await readdir(store.tmp)) {
      const path = join(store.tmp, name);
      const info = await stat(path);
      if (now - info.mtimeMs > STALE_TMP_MS) await rm(path, { force: true });
    }
    return store;
  }

  async put(source: Readable, options: { readonly bytesMax: number }): Promise<PutResult> {
    const temp = join(this.tmp, randomBytes(12).toString('hex'));
    const { sha256, size } = await spoolToFile(source, temp, options.bytesMax);
    try {
      const handle = await open(temp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const path = this.pathOf(sha256);
      const existed = await this.stat(sha256);
      await mkdir(join(path, '..'), { recursive: true });
      // Replacing an existing object is harmless: same key, same bytes.
      await rename(temp, path);
      return { sha256, size, created: existed === null };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable | null> {
    if (!SHA256_HEX_RE.test(sha256)) return null;
    let handle;
    try {
      handle = await open(this.pathOf(sha256), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    if (range) {
      const { size } = await handle.stat();
      if (range.start < 0 || range.start > range.end || range.end >= size) {
        await handle.close();
        throw new RangeError(`range ${range.start}-${range.end} is outside ${size} bytes`);
      }
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async stat(sha256: string): Promise<BlobStat | null> {
    if (!SHA256_HEX_RE.test(sha256)) return null;
    try {
      return { size: (await stat(this.pathOf(sha256))).size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private pathOf(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }
}
