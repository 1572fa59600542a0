import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import Database from 'better-sqlite3';

// `parley backup <dir>` (docs/operations.md#backups): a consistent copy of an embedded server's
// data directory, taken while it runs. The database goes through SQLite's online backup API,
// which copies a snapshot page by page while the server keeps writing, then the copy is checked
// (`quick_check`). Attachment files are copied after it: they are content-addressed and never
// changed or deleted, and each is in place before the row that names it commits, so every file
// the copied database refers to is there. The target holds `parley.db` and `blobs/` as a data
// directory does: restoring is starting a server with PARLEY_DATA_DIR pointing at it.

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly users: number;
  readonly messages: number;
  /** Attachment files copied (null: the blobs are not on this disk, e.g. S3). */
  readonly blobFiles: number | null;
}

export class BackupError extends Error {}

export async function backupEmbedded(options: {
  /** The server's database file. */
  readonly file: string;
  /** The attachment directory, or null when blobs live elsewhere (S3). */
  readonly blobDir: string | null;
  /** A new or empty directory. */
  readonly target: string;
}): Promise<BackupResult> {
  const { target } = options;
  if ((await entries(target)).length > 0) {
    throw new BackupError(`${target} is not empty; back up into a new or empty directory`);
  }
  if (!(await exists(options.file))) {
    throw new BackupError(`no database at ${options.file}`);
  }
  await mkdir(target, { recursive: true });
  const file = join(target, 'parley.db');
  const source = new Database(options.file, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    await source.backup(file);
  } finally {
    source.close();
  }

  const copy = new Database(file, { fileMustExist: true });
  let users: number;
  let messages: number;
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`the copy failed its check: ${String(check)}`);
    users = copy.prepare('SELECT count(*) FROM users').pluck().get() as number;
    messages = copy.prepare('SELECT count(*) FROM messages').pluck().get() as number;
  } finally {
    copy.close();
  }
  const bytes = (await stat(file)).size;

  let blobFiles: number | null = null;
  if (options.blobDir !== null) {
    blobFiles = 0;
    if (await exists(options.blobDir)) {
      const skip = join(options.blobDir, 'tmp');
      await cp(options.blobDir, join(target, 'blobs'), {
        recursive: true,
        // Uploads in progress are not objects yet.
        filter: (path) => path !== skip && !path.startsWith(skip + sep),
      });
      blobFiles = await countFiles(join(target, 'blobs'));
    }
  }
  return { file, bytes, users, messages, blobFiles };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR') throw new BackupError(`${dir} is not a directory`);
    throw err;
  });
}

async function countFiles(dir: string): Promise<number> {
  const listed = await readdir(dir, { recursive: true, withFileTypes: true });
  return listed.filter((d) => d.isFile()).length;
}
