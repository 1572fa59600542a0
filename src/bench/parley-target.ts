import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleArgs, startChild } from './child-service.js';
import type { BenchOptions } from './options.js';
import { seedRest } from './seed-rest.js';
import { seedStore } from './seed-store.js';
import type { Plan, Target } from './target.js';

// Parley as the target: its own child process on a fresh data directory (seeded before it starts),
// or a running server at --url (seeded through REST).

const START_TIMEOUT_MS = 30_000;
/** High enough that the server's per-connection rate limit never shapes a benchmark. */
const UNLIMITED = '1000000';

/** The environment of the child: the caller's, minus any PARLEY_* that would change the run. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PARLEY_')) env[key] = value;
  }
  return { ...env, ...extra };
}

export async function startOwnParley(plan: Plan, options: BenchOptions): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  try {
    const seeded = await seedStore(join(dataDir, 'parley.db'), plan);
    const child = await startChild({
      label: 'parley server',
      args: [
        ...(options.cpuProfDir !== null
          ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`]
          : []),
        ...moduleArgs('cli'),
        'serve',
      ],
      env: childEnv({
        PARLEY_DATA_DIR: dataDir,
        PARLEY_HOST: '127.0.0.1',
        PARLEY_PORT: '0',
        PARLEY_LOG_LEVEL: 'info',
        PARLEY_NODE_ID: 'bench',
        PARLEY_SEED_API: plan.http ? 'open' : 'auth',
        PARLEY_SQLITE_SYNCHRONOUS: options.sqliteSynchronous,
        PARLEY_SEND_RATE_PER_SEC: UNLIMITED,
        PARLEY_SEND_BURST_MAX: UNLIMITED,
        PARLEY_HEARTBEAT_INTERVAL_MS: String(options.heartbeatMs),
        PARLEY_GROUP_MEMBERS_MAX: String(Math.max(10_000, plan.groupMembers)),
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
      pid: child.pid,
      ...seeded,
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
    pid: options.pid,
    ...seeded,
    warnings: () => ({ count: 0, lines: [] }),
    close: () => Promise.resolve(),
  };
}
