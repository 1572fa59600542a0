import { SEARCH_DRAIN_CHUNK, type SqliteMessageSearch } from './sqlite-message-search.js';

// The loop that keeps the search index up to date (sqlite-message-search.ts). It runs on the
// thread that writes messages: the append thread when there is one (append-worker.ts), so that
// indexing never waits for SQLite's write lock behind an append nor makes one wait, and it only
// takes a chunk while no batch is waiting; otherwise on the event loop. Each chunk is one short
// transaction; chunks follow each other through setImmediate, so other work interleaves.

/** How often the indexer looks for queued messages when nothing kicked it. */
export const SEARCH_INDEX_INTERVAL_MS = 250;

export interface SearchIndexer {
  /** Index what is queued, soon (after the current task). */
  kick(): void;
  stop(): void;
}

export function startSearchIndexer(
  search: SqliteMessageSearch,
  options: {
    /** False while the thread has better things to do (a batch waits): the indexer steps back. */
    idle: () => boolean;
    onError: (message: string) => void;
    intervalMs?: number;
  },
): SearchIndexer {
  let scheduled = false;
  let stopped = false;
  const run = () => {
    scheduled = false;
    if (stopped || !options.idle()) return;
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
