// The Node outbox storage: a JSON-lines log in one file, so that unsent messages survive a restart
// of the client process. Each `put` and `delete` appends one line (and fsyncs it, by default)
// before it resolves; `load` replays the log and rewrites it compacted. A line torn by a crash can
// only be the last one, and is ignored: its operation never resolved, so the client never relied
// on it. Node only: import it from `parley/sdk/node`.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isOutboxEntry } from './outbox.js';
import type { OutboxEntry, OutboxStorage } from './types.js';

/** The log is rewritten when it holds this many more lines than live entries. */
const COMPACT_SLACK_LINES = 256;

type LogLine = { put: OutboxEntry } | { delete: string };

export class FileOutbox implements OutboxStorage {
  readonly path: string;
  readonly #fsync: boolean;
  readonly #live = new Map<string, OutboxEntry>();
  #lines = 0;
  /** Operations run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();

  /** `fsync: false` trades durability against power loss for speed; a process crash is safe. */
  constructor(options: { path: string; fsync?: boolean }) {
    this.path = options.path;
    this.#fsync = options.fsync ?? true;
  }

  load(): Promise<OutboxEntry[]> {
    return this.#serial(async () => {
      let text = '';
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.#live.clear();
      for (const line of text.split('\n')) this.#apply(line);
      await this.#compact();
      return [...this.#live.values()];
    });
  }

  put(entry: OutboxEntry): Promise<void> {
    return this.#serial(async () => {
      await this.#append({ put: entry });
      this.#live.delete(entry.ref);
      this.#live.set(entry.ref, entry);
    });
  }

  delete(ref: string): Promise<void> {
    return this.#serial(async () => {
      if (!this.#live.has(ref)) return;
      await this.#append({ delete: ref });
      this.#live.delete(ref);
      if (this.#lines > this.#live.size + COMPACT_SLACK_LINES) await this.#compact();
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #apply(line: string): void {
    if (line.trim() === '') return;
    let op: unknown;
    try {
      op = JSON.parse(line);
    } catch {
      return; // A torn last line: its operation never completed.
    }
    if (typeof op !== 'object' || op === null) return;
    const o = op as Partial<Record<'put' | 'delete', unknown>>;
    if (isOutboxEntry(o.put)) {
      this.#live.delete(o.put.ref);
      this.#live.set(o.put.ref, o.put);
    } else if (typeof o.delete === 'string') {
      this.#live.delete(o.delete);
    }
  }

  async #append(op: LogLine): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const file = await open(this.path, 'a');
    try {
      await file.appendFile(JSON.stringify(op) + '\n', 'utf8');
      if (this.#fsync) await file.datasync();
    } finally {
      await file.close();
    }
    this.#lines += 1;
  }

  /** Writes the live entries to a temporary file and renames it over the log. */
  async #compact(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.tmp`;
    const file = await open(temporary, 'w');
    try {
      const text = [...this.#live.values()].map((e) => JSON.stringify({ put: e }) + '\n').join('');
      await file.writeFile(text, 'utf8');
      if (this.#fsync) await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
    this.#lines = this.#live.size;
  }
}
