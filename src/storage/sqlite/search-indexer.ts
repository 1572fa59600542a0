import { SEARCH_DRAIN_CHUNK, type SqliteMessageSearch } from './sqlite-message-search.js';

// The loop that keeps the search index up to date (sqlite-message-search.ts). It runs on the
// thread that writes messages: the append thread when there is one (append-worker.ts), so that
// indexing never waits for SQLite's write lock behind an append nor makes one wait; otherwise on
// the event loop. Each chunk is one short transaction.
//
// Sends come first. Indexing costs ~9 µs of CPU per message, a fifth of what a send costs the
// whole server, so under load it is paced: while batches keep coming (one in the last QUIET_MS),
// one chunk per BUSY_SPACING_MS (~1,000 messages a second, about 1 % of a core), and never while
// a batch waits. Once the sends pause, chunks follow each other until the queue is empty. A burst
// above that pace is therefore indexed after it, and a search in the meantime first indexes up to
// 2,048 queued messages itself (docs/messages.md#search).

/** How often the indexer looks for queued messages when nothing kicked it. */
export const SEARCH_INDEX_INTERVAL_MS = 250;
/** No batch for this long: the thread is quiet and indexes at full speed. */
const QUIET_MS = 10;
/**
 * While batches keep coming, at most one chunk this often. 100 ms still cost `http-send` about
 * a tenth of its throughput in 10-second runs (BENCHMARKS.md); 500 ms measured level with no
 * search at all.
 */
const BUSY_SPACING_MS = 500;

export interface SearchIndexer {
  /** Index what is queued, soon (after the current task), at the pace the load allows. */
  kick(): void;
  stop(): void;
}

export function startSearchIndexer(
  search: SqliteMessageSearch,
  options: {
    /** False while a batch waits: the indexer steps back (the batch's end kicks it again). */
    idle: () => boolean;
    /** When the last batch arrived or ended (performance.now()); -Infinity if never. */
    lastBatchAt: () => number;
    onError: (message: string) => void;
    intervalMs?: number;
  },
): SearchIndexer {
  let scheduled = false;
  let stopped = false;
  let lastChunkAt = -Infinity;
  const later = (ms: number) => {
    scheduled = true;
    setTimeout(run, ms).unref();
  };
  const run = () => {
    scheduled = false;
    if (stopped || !options.idle()) return;
    const now = performance.now();
    const busy = now - options.lastBatchAt() < QUIET_MS;
    if (busy && now - lastChunkAt < BUSY_SPACING_MS)
      return later(lastChunkAt + BUSY_SPACING_MS - now);
    lastChunkAt = now;
    let taken: number;
    try {
      taken = search.drain(SEARCH_DRAIN_CHUNK);
    } catch (err) {
      options.onError(`search index: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (taken === SEARCH_DRAIN_CHUNK) kick();
  };
  const kick = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(run);
  };
  const timer = setInterval(kick, options.intervalMs ?? SEARCH_INDEX_INTERVAL_MS);
  timer.unref();
  return {
    kick,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
