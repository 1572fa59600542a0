import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../core/clock.js';
import { isParleyError } from '../../core/errors.js';
import type { AppendRequest } from '../../messaging/message-store.js';
import type { AppendReply, WireAppendResult } from './append-thread.js';
import { openSqliteDatabase } from './database.js';
import { SqliteMessageStore } from './sqlite-message-store.js';

// The append thread's body (see append-thread.ts): one connection, one SqliteMessageStore, and
// batches answered in the order they arrive.

const port = parentPort;
if (!port) throw new Error('append-worker.ts runs as a worker thread');
const { file, synchronous } = workerData as { file: string; synchronous: 'normal' | 'full' };
const db = openSqliteDatabase({ file, synchronous });
const store = new SqliteMessageStore(db, systemClock);

port.on('message', (msg: { id: number; batch: AppendRequest[] } | { stop: true }) => {
  if ('stop' in msg) {
    db.close();
    port.close();
    return;
  }
  store.append(msg.batch).then(
    (results) => {
      const wire: WireAppendResult[] = results.map((r) =>
        r.ok
          ? { ok: true, message: r.message, duplicate: r.duplicate }
          : { ok: false, code: r.error.code, message: r.error.message },
      );
      port.postMessage({ id: msg.id, results: wire } satisfies AppendReply);
    },
    (err: unknown) => {
      const message = isParleyError(err) || err instanceof Error ? err.message : String(err);
      port.postMessage({ id: msg.id, error: message } satisfies AppendReply);
    },
  );
});
