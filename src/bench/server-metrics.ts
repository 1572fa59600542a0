// What the bench reads from a Parley node's /metrics (docs/operations.md): the CPU its threads
// have used (parley_thread_cpu_seconds_total, Linux only) and its main thread's GC pauses
// (prom-client's nodejs_gc_duration_seconds), each a total since the node started. Read at the
// start and the end of a run; a node that does not answer, or lacks a series, gives null there.

const SCRAPE_TIMEOUT_MS = 5_000;

export interface ThreadTotals {
  readonly eventLoop: number | null;
  /** Null where there is no append thread: a PostgreSQL node. */
  readonly append: number | null;
  readonly other: number | null;
  readonly gcPause: number | null;
}

const NONE: ThreadTotals = { eventLoop: null, append: null, other: null, gcPause: null };

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/;

/** The four totals from exposition text; a series not there is null. */
export function parseThreadTotals(text: string): ThreadTotals {
  const out: Record<keyof ThreadTotals, number | null> = { ...NONE };
  const add = (key: keyof ThreadTotals, value: number) => (out[key] = (out[key] ?? 0) + value);
  for (const line of text.split('\n')) {
    const m = SAMPLE_RE.exec(line);
    if (!m) continue; // a comment, or blank
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    if (m[1] === 'nodejs_gc_duration_seconds_sum') add('gcPause', value); // every kind of GC
    if (m[1] !== 'parley_thread_cpu_seconds_total') continue;
    const thread = /(?:^|,)thread="([^"]*)"/.exec(m[2] ?? '')?.[1];
    if (thread === 'event_loop') add('eventLoop', value);
    else if (thread === 'append') add('append', value);
    else if (thread === 'other') add('other', value);
  }
  return out;
}

/** One node's totals now; every one null when it cannot be scraped. */
export async function scrapeThreadTotals(url: string): Promise<ThreadTotals> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    return res.ok ? parseThreadTotals(await res.text()) : NONE;
  } catch {
    return NONE;
  }
}
