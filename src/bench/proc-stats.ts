import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mib, type Figures } from './report.js';
import type { SupportRoots } from './target.js';

// A server's CPU and memory, read from Linux's /proc: CPU % from utime + stime over the wall time
// of the window, peak RSS from VmRSS sampled every 200 ms. A cluster's nodes are several
// processes: their CPU is summed, their peak RSS is the largest node's. A cluster's PostgreSQL and
// Redis are measured apart, each as a process tree (see treeCpuSeconds). Elsewhere (or for a
// server whose pid is unknown) every figure is null. Not pidusage: it reads a process as a whole,
// and the cost by part needs each thread, the process trees and the run-queue waits below.
//
// Also how long the server's and the client's threads were ready to run but waited for a CPU
// (the run-queue delay of /proc/<pid>/task/<tid>/schedstat). The client and the server share the
// machine: once their threads want more than its cores, every thread waits its turn, and that
// wait is in every latency measured. A run whose threads waited a lot measured the machine, not
// only Parley.

const SAMPLE_INTERVAL_MS = 200;

function clockTicksPerSec(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100; // getconf missing: Linux's USER_HZ is 100 almost everywhere.
  }
}

let ticksPerSec: number | undefined;

interface StatTimes {
  readonly ppid: number;
  /** utime + stime: the process's own threads, in seconds. */
  readonly own: number;
  /** cutime + cstime: its children that ended and were waited for, in seconds. */
  readonly children: number;
}

function statTimes(pid: number): StatTimes | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields count from after its last ')'.
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    ticksPerSec ??= clockTicksPerSec();
    // fields 4 and 14 to 17 of proc(5)
    const [ppid, utime, stime, cutime, cstime] = [1, 11, 12, 13, 14].map((i) => fields[i]!);
    const own = (utime! + stime!) / ticksPerSec;
    const children = (cutime! + cstime!) / ticksPerSec;
    return Number.isFinite(own) && Number.isFinite(children)
      ? { ppid: ppid!, own, children }
      : null;
  } catch {
    return null;
  }
}

/** utime + stime of the process, in seconds, or null when it cannot be read. */
export function cpuSeconds(pid: number): number | null {
  return statTimes(pid)?.own ?? null;
}

/**
 * On-CPU seconds of the process's living threads, from schedstat's nanoseconds (stat counts in
 * 10 ms ticks, too coarse for a Redis that works a few ms in a small run); null without schedstat.
 * A thread that ended is missed: use it only for processes whose threads live as long as they do.
 */
function threadsCpuSeconds(pid: number): number | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null; // ended
  }
  let ns: number | null = null;
  for (const tid of tids) {
    try {
      const own = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number.isFinite(own)) ns = (ns ?? 0) + own;
    } catch {
      // the thread ended while read, or no schedstat
    }
  }
  return ns === null ? null : ns / 1e9;
}

/**
 * The CPU seconds of a process tree: every living process under the roots (the roots too), each
 * with its own time and that of the children it has waited for. A PostgreSQL backend forked
 * during a run counts from its start, and one that ended counts through its postmaster's cutime,
 * so the difference of two readings is the tree's CPU in between. Null when no root is readable.
 * (For PostgreSQL and Redis: their processes are single-threaded, or keep their threads.)
 */
export function treeCpuSeconds(roots: readonly number[]): number | null {
  const table = processTable();
  if (table === null) return null;
  let total: number | null = null;
  const todo = [...roots];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    const t = table.times.get(pid);
    if (t === undefined) continue; // ended
    total = (total ?? 0) + (threadsCpuSeconds(pid) ?? t.own) + t.children;
    todo.push(...(table.children.get(pid) ?? []));
  }
  return total;
}

/** Every process's stat times, and the children of each; null where /proc cannot be read. */
function processTable(): {
  times: Map<number, StatTimes>;
  children: Map<number, number[]>;
} | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null; // not Linux
  }
  const times = new Map<number, StatTimes>();
  const children = new Map<number, number[]>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const t = statTimes(pid);
    if (t === null) continue; // ended while read
    times.set(pid, t);
    const siblings = children.get(t.ppid);
    if (siblings) siblings.push(pid);
    else children.set(t.ppid, [pid]);
  }
  return { times, children };
}

/** The resident set size in bytes, or null when it cannot be read. */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Seconds the process's threads (summed) were runnable but not running, or null when the kernel
 * does not report it (no schedstat).
 */
export function runWaitSeconds(pid: number): number | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let ns = 0;
  let read = false;
  for (const tid of tids) {
    try {
      // "<on-CPU ns> <run-queue ns> <timeslices>"; a thread that exits meanwhile is skipped.
      const waited = Number(
        readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1],
      );
      if (Number.isFinite(waited)) {
        ns += waited;
        read = true;
      }
    } catch {
      // Gone, or no schedstat.
    }
  }
  return read ? ns / 1e9 : null;
}

export interface ProcFigures {
  /** The window, start() to stop(), in seconds. */
  readonly wallS: number;
  /** The server's CPU seconds in the window, summed over its processes (a cluster's nodes). */
  readonly cpuSeconds: number | null;
  /** Summed over the processes: 100 means one core's worth, whether one process or several. */
  readonly cpuPercent: number | null;
  /** The largest single process's peak (a cluster's busiest node, not the sum). */
  readonly rssPeakBytes: number | null;
  /** This (the client's) process over the same window: near 100 % means the client is the limit. */
  readonly clientCpuPercent: number;
  /** A cluster's PostgreSQL and Redis CPU seconds in the window; null without a cluster. */
  readonly supportCpuSeconds: {
    readonly postgres: number | null;
    readonly redis: number | null;
  } | null;
  /**
   * How long the server's threads waited for a CPU, summed like cpuPercent (100: one thread's
   * worth of waiting for the whole window); null where it cannot be read.
   */
  readonly serverWaitPercent: number | null;
  /** The same for this (the client's) process. */
  readonly clientWaitPercent: number | null;
}

/** Percent of one core over the window. */
const percentOf = (seconds: number | null, wallS: number): number | null =>
  seconds === null || wallS <= 0 ? null : (seconds / wallS) * 100;

/** The figures every scenario reports from a ProcSampler, under their report keys. */
export function procFigures(proc: ProcFigures): Figures {
  const support = proc.supportCpuSeconds;
  return {
    serverCpuPercent: proc.cpuPercent,
    serverRssPeakMiB: mib(proc.rssPeakBytes),
    clientCpuPercent: proc.clientCpuPercent,
    ...(support && {
      postgresCpuPercent: percentOf(support.postgres, proc.wallS),
      redisCpuPercent: percentOf(support.redis, proc.wallS),
    }),
    serverWaitPercent: proc.serverWaitPercent,
    clientWaitPercent: proc.clientWaitPercent,
  };
}

/** Summed run-queue delay of the processes, or null when none can be read. */
function waitOf(pids: readonly number[]): number | null {
  let total: number | null = null;
  for (const pid of pids) {
    const waited = runWaitSeconds(pid);
    if (waited !== null) total = (total ?? 0) + waited;
  }
  return total;
}

/** Percent of the window between two readings of waitOf; null if either is missing. */
const waitPercent = (before: number | null, after: number | null, wallS: number) =>
  before === null || after === null || wallS <= 0 ? null : ((after - before) / wallS) * 100;

/** Summed utime + stime of the processes still readable, keyed by pid. */
function cpuOf(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const cpu = cpuSeconds(pid);
    if (cpu !== null) out.set(pid, cpu);
  }
  return out;
}

/** CPU seconds of the processes between two readings; a process that died in between counts as 0. */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number | null {
  if (before.size === 0) return null;
  let used = 0;
  for (const [pid, start] of before) {
    const end = after.get(pid);
    if (end !== undefined) used += end - start;
  }
  return used;
}

type SupportCpu = { readonly postgres: number | null; readonly redis: number | null };

function supportCpu(roots: SupportRoots): SupportCpu {
  return { postgres: treeCpuSeconds(roots.postgres), redis: treeCpuSeconds(roots.redis) };
}

const minus = (after: number | null, before: number | null): number | null =>
  after === null || before === null ? null : after - before;

/**
 * Watches server processes from start() to stop(): one for a single server, every node of a
 * cluster; plus, for a cluster, its PostgreSQL and Redis process trees (CPU only).
 */
export class ProcSampler {
  private readonly pids: readonly number[];
  private readonly support: SupportRoots | null;
  private timer: NodeJS.Timeout | null = null;
  private startCpu = new Map<number, number>();
  private startSupportCpu: SupportCpu | null = null;
  private startMs = 0;
  private readonly peaks = new Map<number, number>();
  private clientStart = process.cpuUsage();
  private startWait: number | null = null;
  private clientStartWait: number | null = null;

  constructor(pids: readonly number[], support: SupportRoots | null = null) {
    this.pids = pids;
    this.support = support;
  }

  start(): void {
    this.clientStart = process.cpuUsage();
    this.startMs = performance.now();
    this.startSupportCpu = this.support && supportCpu(this.support);
    this.clientStartWait = runWaitSeconds(process.pid);
    if (this.pids.length === 0) return;
    this.startCpu = cpuOf(this.pids);
    this.startWait = waitOf(this.pids);
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /** The server's RSS now, summed over its processes; null when none can be read. */
  rssNow(): number | null {
    let total: number | null = null;
    for (const pid of this.pids) {
      const rss = rssBytes(pid);
      if (rss !== null) total = (total ?? 0) + rss;
    }
    return total;
  }

  stop(): ProcFigures {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const wallS = (performance.now() - this.startMs) / 1000;
    const used = process.cpuUsage(this.clientStart);
    const common = {
      wallS,
      clientCpuPercent: wallS > 0 ? ((used.user + used.system) / 1e6 / wallS) * 100 : 0,
      supportCpuSeconds: this.supportBetween(),
      clientWaitPercent: waitPercent(this.clientStartWait, runWaitSeconds(process.pid), wallS),
    };
    if (this.pids.length === 0) {
      return {
        ...common,
        cpuSeconds: null,
        cpuPercent: null,
        rssPeakBytes: null,
        serverWaitPercent: null,
      };
    }
    this.sample();
    const cpu = cpuBetween(this.startCpu, cpuOf(this.pids));
    return {
      ...common,
      cpuSeconds: cpu,
      cpuPercent: percentOf(cpu, wallS),
      rssPeakBytes: this.peaks.size > 0 ? Math.max(...this.peaks.values()) : null,
      serverWaitPercent: waitPercent(this.startWait, waitOf(this.pids), wallS),
    };
  }

  private supportBetween(): SupportCpu | null {
    const start = this.startSupportCpu;
    if (this.support === null || start === null) return null;
    const end = supportCpu(this.support);
    return { postgres: minus(end.postgres, start.postgres), redis: minus(end.redis, start.redis) };
  }

  private sample(): void {
    for (const pid of this.pids) {
      const rss = rssBytes(pid);
      if (rss !== null && rss > (this.peaks.get(pid) ?? 0)) this.peaks.set(pid, rss);
    }
  }
}
