import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// A server's CPU and memory, read from Linux's /proc: CPU % from utime + stime over the wall time
// of the window, peak RSS from VmRSS sampled every 200 ms. A cluster's nodes are several
// processes: their CPU is summed, their peak RSS is the largest node's. Elsewhere (or for a server
// whose pid is unknown) every figure is null.

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

export interface ProcFigures {
  /** Summed over the processes: 100 means one core's worth, whether one process or several. */
  readonly cpuPercent: number | null;
  /** The largest single process's peak (a cluster's busiest node, not the sum). */
  readonly rssPeakBytes: number | null;
  /** This (the client's) process over the same window: near 100 % means the client is the limit. */
  readonly clientCpuPercent: number;
  /** The support processes' (a cluster's PostgreSQL and Redis) summed CPU; null when none. */
  readonly supportCpuPercent: number | null;
}

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

  constructor(pids: readonly number[], supportPids: () => readonly number[] = () => []) {
    this.pids = pids;
    this.supportPids = supportPids;
  }

  start(): void {
    this.clientStart = process.cpuUsage();
    this.startMs = performance.now();
    this.startSupportCpu = cpuOf(this.supportPids());
    if (this.pids.length === 0) return;
    this.startCpu = cpuOf(this.pids);
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
    if (this.pids.length === 0) {
      return { cpuPercent: null, rssPeakBytes: null, clientCpuPercent, supportCpuPercent };
    }
    this.sample();
    const cpuPercent = cpuPercentBetween(this.startCpu, cpuOf(this.pids), wallS);
    const rssPeakBytes = this.peaks.size > 0 ? Math.max(...this.peaks.values()) : null;
    return { cpuPercent, rssPeakBytes, clientCpuPercent, supportCpuPercent };
  }

  private sample(): void {
    for (const pid of this.pids) {
      const rss = rssBytes(pid);
      if (rss !== null && rss > (this.peaks.get(pid) ?? 0)) this.peaks.set(pid, rss);
    }
  }
}
