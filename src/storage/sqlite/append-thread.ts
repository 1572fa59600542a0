import { Worker } from 'node:worker_threads';
import { ParleyError, type ErrorCode } from '../../core/errors.js';
import type { StoredMessage } from '../../messaging/store/index.js';
import type { AppendRequest, AppendResult } from '../../messaging/store/index.js';

// Appends on a thread of their own. A group-commit batch is a few thousand B-tree inserts, the
// heaviest work of the send path; on the event loop it also blocks every socket for as long.
// The append thread has its own connection to the same file and runs exactly the code the
// event loop would (SqliteAppend.append, in append-worker.ts), so the contract is
// unchanged: seqs are allocated inside the batch's BEGIN IMMEDIATE transaction, and SQLite's
// write lock serializes it with every other write of the node. The event loop keeps every other
// statement; once a batch resolves, its reads see the commit (WAL: each read is a fresh
// snapshot). If the thread dies, the batches in flight reject and later ones run in-thread.

/**
 * What crosses the thread boundary. A newly stored message comes back as what the store added
 * to its request (id, seq, time): the rest is the request, which this side still holds, so the
 * body is not copied back. A duplicate carries its stored twin whole; a ParleyError becomes its
 * code and message.
 */
export type WireAppendResult =
  | {
      readonly ok: true;
      readonly id: string;
      readonly seq: number;
      readonly atUs: number;
      readonly previousAtUs: number;
    }
  | { readonly ok: true; readonly message: StoredMessage; readonly duplicate: true }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export type AppendReply =
  | { readonly id: number; readonly results: readonly WireAppendResult[] }
  | { readonly id: number; readonly error: string };

export interface AppendThread {
  append(batch: readonly AppendRequest[]): Promise<AppendResult[]>;
  stop(): Promise<void>;
}

function fromWire(r: WireAppendResult, request: AppendRequest): AppendResult {
  if (!r.ok) return { ok: false, error: new ParleyError(r.code, r.message) };
  if ('duplicate' in r) return { ok: true, message: r.message, duplicate: true };
  const message: StoredMessage = {
    id: r.id,
    conversationId: request.conversationId,
    seq: r.seq,
    senderId: request.senderId,
    device: request.device,
    body: request.body,
    atUs: r.atUs,
    recalledAtUs: null,
  };
  return { ok: true, message, duplicate: false, previousAtUs: r.previousAtUs };
}

/**
 * Starts the append thread on `file`. `fallback` runs a batch in this thread once the worker is
 * gone (it crashed, or is stopping).
 */
export function startAppendThread(options: {
  file: string;
  synchronous: 'normal' | 'full';
  fallback: (batch: readonly AppendRequest[]) => Promise<AppendResult[]>;
  onError: (message: string) => void;
  /** The search indexer, which runs on the append thread (search-indexer.ts), failed a chunk. */
  onSearchIndexError?: (message: string) => void;
}): AppendThread {
  const workerData = { file: options.file, synchronous: options.synchronous };
  // Compiled, this module is append-thread.js next to append-worker.js. From source (under tsx)
  // both are .ts, and a worker does not inherit tsx's loader: it registers it first.
  const worker = import.meta.url.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
           .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./append-worker.ts', import.meta.url).href)}); })`,
        { eval: true, workerData },
      )
    : new Worker(new URL('./append-worker.js', import.meta.url), { workerData });
  worker.unref();
  const pending = new Map<
    number,
    {
      batch: readonly AppendRequest[];
      resolve: (r: AppendResult[]) => void;
      reject: (err: Error) => void;
    }
  >();
  let nextId = 1;
  let alive = true;

  const failAll = (why: string) => {
    alive = false;
    for (const p of pending.values()) p.reject(new Error(`append thread: ${why}`));
    pending.clear();
  };
  worker.on('message', (reply: AppendReply | { warn: string } | { searchWarn: string }) => {
    if ('warn' in reply) return options.onError(reply.warn);
    if ('searchWarn' in reply) return options.onSearchIndexError?.(reply.searchWarn);
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.results.map((r, i) => fromWire(r, p.batch[i]!)));
  });
  worker.on('error', (err) => {
    options.onError(String(err));
    failAll(String(err));
  });
  worker.on('exit', (code) => {
    if (alive) options.onError(`append thread exited with code ${code}`);
    failAll('exited');
  });

  return {
    append(batch) {
      if (!alive) return options.fallback(batch);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { batch, resolve, reject });
        // Ref'd while a batch is in flight, so the process waits for its commit.
        if (pending.size === 1) worker.ref();
        worker.postMessage({ id, batch });
      });
    },
    async stop() {
      if (!alive) return;
      alive = false;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref();
      worker.postMessage({ stop: true });
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
