import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mib, type Figures } from './report.js';

// A server's CPU and memory, read from Linux's /proc: CPU % from utime + stime over the wall time
// of the window, peak RSS from VmRSS sampled every 200 ms. A cluster's nodes are several
// processes: their CPU is summed, their peak RSS is the largest node's. Elsewhere (or for a server
// whose pid is unknown) every figure is null.
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

/** utime + stime of the process, in seconds, or null when it cannot be read. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields count from after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
    ticksPerSec ??= clockTicksPerSec();
    return Number.isFinite(ticks) ? ticks / ticksPerSec : null;
  } catch {
    return null;
  }
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
  /** Summed over the processes: 100 means one core's worth, whether one process or several. */
  readonly cpuPercent: number | null;
  /** The largest single process's peak (a cluster's busiest node, not the sum). */
  readonly rssPeakBytes: number | null;
  /** This (the client's) process over the same window: near 100 % means the client is the limit. */
  readonly clientCpuPercent: number;
  /** The support processes' (a cluster's PostgreSQL and Redis) summed CPU; null when none. */
  readonly supportCpuPercent: number | null;
  /**
   * How long the server's threads waited for a CPU, summed like cpuPercent (100: one thread's
   * worth of waiting for the whole window); null where it cannot be read.
   */
  readonly serverWaitPercent: number | null;
  /** The same for this (the client's) process. */
  readonly clientWaitPercent: number | null;
}

/** The figures every scenario reports from a ProcSampler, under their report keys. */
export function procFigures(proc: ProcFigures): Figures {
  return {
    serverCpuPercent: proc.cpuPercent,
    serverRssPeakMiB: mib(proc.rssPeakBytes),
    clientCpuPercent: proc.clientCpuPercent,
    ...(proc.supportCpuPercent !== null && { supportCpuPercent: proc.supportCpuPercent }),
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

/** CPU % of the processes between two readings; a process that died in between counts as 0. */
function cpuPercentBetween(
  before: Map<number, number>,
  after: Map<number, number>,
  wallS: number,
): number | null {
  if (before.size === 0 || wallS <= 0) return null;
  let used = 0;
  for (const [pid, start] of before) {
    const end = after.get(pid);
    if (end !== undefined) used += end - start;
  }
  return (used / wallS) * 100;
}

/**
 * Watches server processes from start() to stop(): one for a single server, every node of a
 * cluster; plus, for a cluster, its PostgreSQL and Redis processes (CPU only).
 */
export class ProcSampler {
  private readonly pids: readonly number[];
  private readonly supportPids: () => readonly number[];
  private timer: NodeJS.Timeout | null = null;
  private startCpu = new Map<number, number>();
  private startSupportCpu = new Map<number, number>();
  private startMs = 0;
  private readonly peaks = new Map<number, number>();
  private clientStart = process.cpuUsage();
  private startWait: number | null = null;
  private clientStartWait: number | null = null;

  constructor(pids: readonly number[], supportPids: () => readonly number[] = () => []) {
    this.pids = pids;
    this.supportPids = supportPids;
  }

  start(): void {
    this.clientStart = process.cpuUsage();
    this.startMs = performance.now();
    this.startSupportCpu = cpuOf(this.supportPids());
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
    const clientCpuPercent = wallS > 0 ? ((used.user + used.system) / 1e6 / wallS) * 100 : 0;
    const supportCpuPercent = cpuPercentBetween(
      this.startSupportCpu,
      cpuOf([...this.startSupportCpu.keys()]),
      wallS,
    );
    const clientWaitPercent = waitPercent(this.clientStartWait, runWaitSeconds(process.pid), wallS);
    if (this.pids.length === 0) {
      return {
        cpuPercent: null,
        rssPeakBytes: null,
        clientCpuPercent,
        supportCpuPercent,
        serverWaitPercent: null,
        clientWaitPercent,
      };
    }
    this.sample();
    const cpuPercent = cpuPercentBetween(this.startCpu, cpuOf(this.pids), wallS);
    const rssPeakBytes = this.peaks.size > 0 ? Math.max(...this.peaks.values()) : null;
    const serverWaitPercent = waitPercent(this.startWait, waitOf(this.pids), wallS);
    return {
      cpuPercent,
      rssPeakBytes,
      clientCpuPercent,
      supportCpuPercent,
      serverWaitPercent,
      clientWaitPercent,
    };
  }

  private sample(): void {
    for (const pid of this.pids) {
      const rss = rssBytes(pid);
      if (rss !== null && rss > (this.peaks.get(pid) ?? 0)) this.peaks.set(pid, rss);
    }
  }
}
