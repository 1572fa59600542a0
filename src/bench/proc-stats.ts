import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// A server process's CPU and memory, read from Linux's /proc: CPU % from utime + stime over the
// wall time of the window, peak RSS from VmRSS sampled every 200 ms. Elsewhere (or for a server
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
  readonly cpuPercent: number | null;
  readonly rssPeakBytes: number | null;
  /** This (the client's) process over the same window: near 100 % means the client is the limit. */
  readonly clientCpuPercent: number;
}

/** Watches one process from start() to stop(). */
export class ProcSampler {
  private readonly pid: number | null;
  private timer: NodeJS.Timeout | null = null;
  private startCpu: number | null = null;
  private startMs = 0;
  private peak: number | null = null;
  private clientStart = process.cpuUsage();

  constructor(pid: number | null) {
    this.pid = pid;
  }

  start(): void {
    this.clientStart = process.cpuUsage();
    this.startMs = performance.now();
    if (this.pid === null) return;
    this.startCpu = cpuSeconds(this.pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  rssNow(): number | null {
    return this.pid === null ? null : rssBytes(this.pid);
  }

  stop(): ProcFigures {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const wallS = (performance.now() - this.startMs) / 1000;
    const used = process.cpuUsage(this.clientStart);
    const clientCpuPercent = wallS > 0 ? ((used.user + used.system) / 1e6 / wallS) * 100 : 0;
    if (this.pid === null) return { cpuPercent: null, rssPeakBytes: null, clientCpuPercent };
    this.sample();
    const cpu = cpuSeconds(this.pid);
    const cpuPercent =
      cpu !== null && this.startCpu !== null && wallS > 0
        ? ((cpu - this.startCpu) / wallS) * 100
        : null;
    return { cpuPercent, rssPeakBytes: this.peak, clientCpuPercent };
  }

  private sample(): void {
    const rss = this.rssNow();
    if (rss !== null && (this.peak === null || rss > this.peak)) this.peak = rss;
  }
}
