import { readFileSync, readdirSync } from 'node:fs';

// This process's CPU time by thread, for `parley_thread_cpu_seconds_total`: the main thread (the
// event loop, with the GC work V8 does on it), the SQLite append thread, and every other thread
// (V8's GC and compiler helpers, the libuv pool, the checkpointer). Read from Linux's /proc at
// scrape time only, never on a hot path; elsewhere there is no such metric.
//
// Every Node thread is called "node" in /proc, so the main thread is found by its tid (the pid)
// and the append thread by the name it gives itself (storage/sqlite/append-worker.ts). "Other" is
// the process's whole CPU (getrusage: every thread, living or ended) less the two, so a helper
// thread that ended still counts.

/** The name the append thread writes to /proc/thread-self/comm (storage/sqlite/append-worker.ts). */
export const APPEND_THREAD_NAME = 'parley-append';

export interface ThreadCpu {
  readonly eventLoop: number;
  /** Null when this process has no append thread (PostgreSQL, or not started yet). */
  readonly append: number | null;
  readonly other: number;
}

/** Linux's USER_HZ, almost everywhere; only the fallback for a kernel without schedstat uses it. */
const TICKS_PER_SEC = 100;

/** A thread's on-CPU seconds: schedstat's nanoseconds, else stat's utime + stime in ticks. */
function threadSeconds(tid: string): number | null {
  const dir = `/proc/self/task/${tid}`;
  try {
    const ns = Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0]);
    if (Number.isFinite(ns)) return ns / 1e9;
  } catch {
    // no schedstat in this kernel: fall back to stat
  }
  try {
    const stat = readFileSync(`${dir}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
  } catch {
    return null; // the thread ended while it was read
  }
}

function threadName(tid: string): string {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** This process's CPU seconds by thread so far, or null where /proc cannot be read. */
export function readThreadCpu(): ThreadCpu | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null; // not Linux
  }
  const main = String(process.pid);
  let eventLoop: number | null = null;
  let append: number | null = null;
  for (const tid of tids) {
    if (tid === main) eventLoop = threadSeconds(tid);
    else if (threadName(tid) === APPEND_THREAD_NAME) {
      const seconds = threadSeconds(tid);
      if (seconds !== null) append = (append ?? 0) + seconds;
    }
  }
  if (eventLoop === null) return null;
  // Read last, so that it already holds whatever the threads above used.
  const { user, system } = process.cpuUsage();
  const other = Math.max(0, (user + system) / 1e6 - eventLoop - (append ?? 0));
  return { eventLoop, append, other };
}
