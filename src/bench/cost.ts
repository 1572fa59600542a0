import { ProcSampler, type ProcFigures } from './proc-stats.js';
import type { Figures } from './report.js';
import { scrapeThreadTotals, type ThreadTotals } from './server-metrics.js';
import type { Target } from './target.js';

// What a delivered message cost: the CPU of the run's window (ProcSampler's /proc readings, and
// each node's /metrics read at its start and end) divided by the message pushes the clients
// received. Each part is reported on its own so that each can be followed: the Parley processes
// (a cluster's nodes summed), a cluster's PostgreSQL and Redis, and, inside the Parley processes,
// the event loop, the append thread, the other threads and the GC pauses. Null where unknown.

export interface Cost {
  readonly proc: ProcFigures;
  /** Each part's growth in the window, summed over the nodes; null unless every node has it. */
  readonly threads: ThreadTotals;
}

type Part = keyof ThreadTotals;

/** Summed growth of each part from `start` to `end` (node by node); null unless all have it. */
function growth(start: readonly ThreadTotals[], end: readonly ThreadTotals[]): ThreadTotals {
  const sum = (part: Part): number | null => {
    if (end.length === 0) return null;
    let total = 0;
    for (const [i, s] of start.entries()) {
      const a = s[part];
      const b = end[i]?.[part] ?? null;
      if (a === null || b === null) return null;
      total += b - a;
    }
    return total;
  };
  return {
    eventLoop: sum('eventLoop'),
    append: sum('append'),
    other: sum('other'),
    gcPause: sum('gcPause'),
  };
}

/** Measures a run's window: start() just before the first send, stop() after the last push. */
export class CostMeter {
  private readonly sampler: ProcSampler;
  private start: readonly ThreadTotals[] = [];

  constructor(private readonly target: Target) {
    this.sampler = new ProcSampler(target.pids, target.support());
  }

  async begin(): Promise<void> {
    this.start = await Promise.all(this.target.metricsUrls.map(scrapeThreadTotals));
    this.sampler.start();
  }

  async end(): Promise<Cost> {
    const proc = this.sampler.stop();
    const end = await Promise.all(this.target.metricsUrls.map(scrapeThreadTotals));
    return { proc, threads: growth(this.start, end) };
  }
}

/** µs of CPU per delivered message, or null when either is unknown or nothing was delivered. */
const perMessage = (seconds: number | null, delivered: number): number | null =>
  seconds === null || delivered <= 0 ? null : (seconds * 1e6) / delivered;

function sumOrNull(values: readonly (number | null)[]): number | null {
  let total = 0;
  for (const v of values) {
    if (v === null) return null;
    total += v;
  }
  return total;
}

/** The cost figures of a run that delivered `delivered` message pushes. */
export function costFigures(cost: Cost, delivered: number): Figures {
  const { proc, threads } = cost;
  const support = proc.supportCpuSeconds;
  return {
    serverCpuUsPerMessage: perMessage(proc.cpuSeconds, delivered),
    eventLoopCpuUsPerMessage: perMessage(threads.eventLoop, delivered),
    gcPauseUsPerMessage: perMessage(threads.gcPause, delivered),
    appendCpuUsPerMessage: perMessage(threads.append, delivered),
    otherThreadsCpuUsPerMessage: perMessage(threads.other, delivered),
    ...(support && {
      postgresCpuUsPerMessage: perMessage(support.postgres, delivered),
      redisCpuUsPerMessage: perMessage(support.redis, delivered),
      totalCpuUsPerMessage: perMessage(
        sumOrNull([proc.cpuSeconds, support.postgres, support.redis]),
        delivered,
      ),
    }),
  };
}
