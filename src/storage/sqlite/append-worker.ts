import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../core/clock.js';
import { isParleyError } from '../../core/errors.js';
import type { AppendRequest, AppendResult } from '../../messaging/store/index.js';
import type { AppendReply, WireAppendResult } from './append-thread.js';
import { openSqliteDatabase } from './database.js';
import { SqliteMessageSearch } from './sqlite-message-search.js';
import { SqliteAppend } from './sqlite-append.js';
import { SqliteMessaging } from './sqlite-messaging.js';
import { startSearchIndexer } from './search-indexer.js';

// The append thread's body (see append-thread.ts): one connection, one SqliteAppend, and
// batches answered in the order they arrive. Between batches, it keeps the search index up to
// date (search-indexer.ts).

const port = parentPort;
if (!port) throw new Error('append-worker.ts runs as a worker thread');
// Every Node thread is "node" in /proc: the name lets /metrics tell this thread's CPU from the
// others' (observability/thread-cpu.ts, APPEND_THREAD_NAME). Linux only; elsewhere it fails.
try {
  writeFileSync('/proc/thread-self/comm', 'parley-append');
} catch {
  // not Linux: no per-thread CPU in /metrics
}
const { file, synchronous } = workerData as { file: string; synchronous: 'normal' | 'full' };
const db = openSqliteDatabase({ file, synchronous });
const store = new SqliteAppend(new SqliteMessaging(db, systemClock));
let waiting = 0;
let lastBatchAt = -Infinity;
const indexer = startSearchIndexer(new SqliteMessageSearch(db), {
  idle: () => waiting === 0,
  lastBatchAt: () => lastBatchAt,
  onError: (searchWarn) => port.postMessage({ searchWarn }),
});

// One message at a time, in arrival order, even where a batch is retried send by send: a batch
// never starts before the one ahead of it has been answered.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: { id: number; batch: AppendRequest[] } | { stop: true }) => {
  waiting++;
  lastBatchAt = performance.now();
  queue = queue.then(() => {
    if ('stop' in msg) {
      indexer.stop();
      db.close();
      port.close();
      return;
    }
    return appendEach(msg.batch)
      .then(
        (results) => port.postMessage({ id: msg.id, results } satisfies AppendReply),
        (err: unknown) =>
          port.postMessage({ id: msg.id, error: messageOf(err) } satisfies AppendReply),
      )
      .finally(() => {
        waiting--;
        lastBatchAt = performance.now();
        indexer.kick();
      });
  });
});

const messageOf = (err: unknown): string =>
  isParleyError(err) || err instanceof Error ? err.message : String(err);

const toWire = (r: AppendResult): WireAppendResult =>
  !r.ok
    ? { ok: false, code: r.error.code, message: r.error.message }
    : r.duplicate
      ? { ok: true, message: r.message, duplicate: true }
      : {
          ok: true,
          id: r.message.id,
          seq: r.message.seq,
          atUs: r.message.atUs,
          // Always known here; 0 ("before the first") would only ever mean no wait.
          previousAtUs: r.previousAtUs ?? 0,
        };

/**
 * The batch in one transaction; if that throws, each send alone, so that only a send that breaks
 * the store fails (with `internal`). A batch therefore fails as a whole only if this thread dies,
 * which the group committer's pipeline relies on (group-commit.ts): nothing handed after a
 * failed batch is committed before it is retried.
 */
async function appendEach(batch: AppendRequest[]): Promise<WireAppendResult[]> {
  try {
    return (await store.append(batch)).map(toWire);
  } catch {
    const results: WireAppendResult[] = [];
    for (const request of batch) {
      try {
        const [result] = await store.append([request]);
        results.push(toWire(result!));
      } catch (err) {
        port!.postMessage({ warn: `append failed: ${messageOf(err)}` });
        results.push({
          ok: false,
          code: 'internal',
          message: 'The store could not take this send.',
        });
      }
    }
    return results;
  }
}
