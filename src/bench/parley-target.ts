import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleArgs, startChild } from './child-service.js';
import { INSPECT_ARG, heapUsedAfterGc } from './heap-probe.js';
import type { BenchOptions } from './options.js';
import { seedRest } from './seed-rest.js';
import { seedStore } from './seed-store.js';
import type { Plan, Target } from './target.js';

// Parley as the target: its own child process on a fresh data directory (seeded before it starts),
// or a running server at --url (seeded through REST). A cluster of own nodes is cluster-target.ts.

export const START_TIMEOUT_MS = 30_000;
/** High enough that the server's per-connection rate limit never shapes a benchmark. */
const UNLIMITED = '1000000';

/**
 * The environment of a server child (the embedded server, or one node of a cluster): the caller's,
 * minus any PARLEY_* that would change the run, plus what every benchmarked Parley gets — a free
 * port on 127.0.0.1, the send rate limits lifted, the bench's heartbeat — and `extra`.
 */
export function serverEnv(
  plan: Plan,
  options: BenchOptions,
  extra: Record<string, string>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PARLEY_')) env[key] = value;
  }
  return {
    ...env,
    PARLEY_HOST: '127.0.0.1',
    PARLEY_PORT: '0',
    PARLEY_LOG_LEVEL: 'info',
    PARLEY_SEED_API: plan.http ? 'open' : 'auth',
    PARLEY_SEND_RATE_PER_SEC: UNLIMITED,
    PARLEY_SEND_BURST_MAX: UNLIMITED,
    PARLEY_HEARTBEAT_INTERVAL_MS: String(options.heartbeatMs),
    PARLEY_GROUP_MEMBERS_MAX: String(Math.max(10_000, plan.groupMembers)),
    ...extra,
  };
}

/** node --cpu-prof arguments when --cpu-prof is given (each process writes its own file). */
export function profArgs(options: BenchOptions): string[] {
  return options.cpuProfDir !== null ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
}

export async function startOwnParley(plan: Plan, options: BenchOptions): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  try {
    const seeded = await seedStore(join(dataDir, 'parley.db'), plan);
    const child = await startChild({
      label: 'parley server',
      args: [
        ...profArgs(options),
        ...(plan.heap ? [INSPECT_ARG] : []),
        ...moduleArgs('cli'),
        'serve',
      ],
      env: serverEnv(plan, options, {
        PARLEY_DATA_DIR: dataDir,
        PARLEY_NODE_ID: 'bench',
        PARLEY_SQLITE_SYNCHRONOUS: options.sqliteSynchronous,
      }),
      readyMsg: 'parley listening',
      timeoutMs: START_TIMEOUT_MS,
    });
    const httpUrl = `http://127.0.0.1:${child.port}`;
    return {
      kind: 'parley',
      description: `parley (own server, pid ${child.pid}, synchronous=${options.sqliteSynchronous}) at ${httpUrl}`,
      httpUrl,
      wsUrl: `ws://127.0.0.1:${child.port}/ws`,
      wsUrls: [`ws://127.0.0.1:${child.port}/ws`],
      pids: [child.pid],
      support: () => null,
      metricsUrls: [`${httpUrl}/metrics`],
      ...seeded,
      heapUsed: () => heapUsedAfterGc(child.inspectorUrl()),
      warnings: () => ({ count: child.warningCount(), lines: child.warnings }),
      close: async () => {
        await child.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export async function useRunningParley(
  url: string,
  plan: Plan,
  options: BenchOptions,
): Promise<Target> {
  const seeded = await seedRest(url, plan);
  return {
    kind: 'parley',
    description: `parley at ${url}${options.pid !== null ? ` (pid ${options.pid})` : ''}`,
    httpUrl: url,
    wsUrl: url.replace(/^http/, 'ws') + '/ws',
    wsUrls: [url.replace(/^http/, 'ws') + '/ws'],
    pids: options.pid !== null ? [options.pid] : [],
    support: () => null,
    // The server reads its threads' CPU itself: known without --pid, if /metrics answers.
    metricsUrls: [`${url}/metrics`],
    ...seeded,
    heapUsed: () => Promise.resolve(null),
    warnings: () => ({ count: 0, lines: [] }),
    close: () => Promise.resolve(),
  };
}
