import { ProcSampler, procFigures } from '../proc-stats.js';
import { sleep } from '../pool.js';
import { mib } from '../report.js';
import type { Outcome, RunContext, Scenario } from '../scenario.js';
import type { Target } from '../target.js';
import { CONNECT_TIMEOUT_MS, ClientSet } from '../ws-client.js';

// `connect`: N idle authenticated connections that answer the server's pings. Reports the time to
// connect them all and the server's memory per connection, (RSS after − RSS before) / N, after
// holding them for --hold-s (a short heartbeat by default, so pings really flow); and the growth
// from the first half to all of them, per connection of the second half. Beside RSS, the JS heap
// per connection (heap-probe.ts): steadier than RSS, but blind to what lives outside the heap.

/** How long the connections may take to close before the heap is read without them. */
const CLOSE_WAIT_MS = 15_000;
/** Then this long for the server's own close handlers (presence, the router) to run. */
const SETTLE_MS = 1000;

/**
 * The server's JS heap with every connection up, less the heap once they are gone, per connection,
 * each read after a full GC. Read last: a forced GC before an RSS reading would change it. What
 * outlives a link (code compiled on the way, per-user caches) is not counted.
 */
async function heapPerConnectionKiB(target: Target, set: ClientSet): Promise<number | null> {
  const count = set.clients.length;
  const withAll = await target.heapUsed();
  if (withAll === null || count === 0) return null;
  set.closeAll();
  const untilMs = performance.now() + CLOSE_WAIT_MS;
  while (set.clients.some((c) => !c.isClosed) && performance.now() < untilMs) await sleep(100);
  await sleep(SETTLE_MS);
  const without = await target.heapUsed();
  return without === null ? null : (withAll - without) / 1024 / count;
}

export const connect: Scenario = {
  plan: (o) => ({ users: o.connections, pairs: false, groupMembers: 0, http: false, heap: true }),
  params: (o) => ({
    connections: o.connections,
    concurrency: o.concurrency,
    holdS: o.holdS,
    heartbeatMs: o.heartbeatMs,
    durationCapS: o.durationS,
  }),
  async run(ctx: RunContext): Promise<Outcome> {
    const { target, options, deadline, progress } = ctx;
    const set = new ClientSet();
    const sampler = new ProcSampler(target.pids);
    sampler.start();
    const rssBefore = sampler.rssNow();
    try {
      // Two halves: the second half's growth is measured in a warmed-up server, free of the
      // start-up garbage that the first RSS reading still holds.
      const half = Math.floor(target.users.length / 2);
      const alive = () => set.clients.filter((c) => !c.isClosed).length;
      const startMs = performance.now();
      progress.start(() => `connected ${set.clients.length}/${options.connections}`);
      await deadline.race(
        set.connectAll(
          target.wsUrl,
          target.users.slice(0, half),
          options.concurrency,
          CONNECT_TIMEOUT_MS,
        ),
        'connect',
      );
      const firstHalfMs = performance.now() - startMs;
      await sleep(Math.min(1000, deadline.remainingMs()));
      const rssMiddle = sampler.rssNow();
      const secondStartMs = performance.now();
      await deadline.race(
        set.connectAll(
          target.wsUrl,
          target.users.slice(half),
          options.concurrency,
          CONNECT_TIMEOUT_MS,
        ),
        'connect',
      );
      const connectMs = firstHalfMs + (performance.now() - secondStartMs);
      progress.start(() => `holding ${alive()} connections`);
      await sleep(Math.min(options.holdS * 1000, deadline.remainingMs()));
      progress.stop();
      const rssAfter = sampler.rssNow();
      const proc = sampler.stop();
      const stillAlive = alive();
      const heapKiB = deadline.expired ? null : await heapPerConnectionKiB(target, set);
      const failures: string[] = [];
      if (stillAlive < options.connections) {
        failures.push(`${options.connections - stillAlive} connection(s) lost while idle`);
      }
      if (deadline.expired) failures.push(`time cap of ${options.durationS} s hit while holding`);
      return {
        failures,
        figures: {
          connections: options.connections,
          connectMs,
          connectionsPerSec: options.connections / Math.max(1e-3, connectMs / 1000),
          alive: stillAlive,
          pingsAnswered: set.clients.reduce((n, c) => n + c.pingsAnswered, 0),
          rssBeforeMiB: mib(rssBefore),
          rssAfterMiB: mib(rssAfter),
          memoryPerConnectionKiB:
            rssBefore !== null && rssAfter !== null
              ? (rssAfter - rssBefore) / 1024 / options.connections
              : null,
          marginalMemoryPerConnectionKiB:
            rssMiddle !== null && rssAfter !== null && options.connections - half > 0
              ? (rssAfter - rssMiddle) / 1024 / (options.connections - half)
              : null,
          heapPerConnectionKiB: heapKiB,
          ...procFigures(proc),
        },
      };
    } finally {
      progress.stop();
      sampler.stop();
      set.closeAll();
    }
  },
};
