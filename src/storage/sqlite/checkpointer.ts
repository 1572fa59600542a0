import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit
// crosses the threshold, and it copies pages to the main file and fsyncs it: with better-sqlite3
// that blocked every connection of the node for as long, which showed as p99 spikes under load.
// A worker thread with its own connection runs PASSIVE checkpoints instead (they never wait for,
// nor block, the writer); the automatic one stays as a fallback at a much larger threshold.

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(options: {
  file: string;
  intervalMs: number;
  onError: (message: string) => void;
}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file: options.file, intervalMs: options.intervalMs, driver },
  });
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m.error) options.onError(m.error);
  });
  worker.on('error', (err) => options.onError(String(err)));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        // Unref'd while it runs, so it never holds the process open; ref'd while it stops.
        worker.ref();
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate(), 2_000).unref();
      }),
  };
}
