import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleArgs, startChild, type ChildService } from './child-service.js';
import type { BenchOptions } from './options.js';
import { START_TIMEOUT_MS, profArgs, serverEnv } from './parley-target.js';
import { seedPostgres } from './seed-store.js';
import type { Plan, Target } from './target.js';

// Parley as a cluster (--cluster N): a fresh PostgreSQL and a fresh Redis (the real servers the
// test suites use, in temporary directories on free ports), the plan seeded into PostgreSQL, then
// N `parley serve` node processes pointed at both, each with its own node id. The scenarios spread
// their clients round-robin over the nodes' URLs. Everything is torn down in close(), and on a
// failure to start; the engines (src/engines/) and child-service also kill what is left when this
// process exits.

const WARNING_LINES_MAX = 20;

/** One step of the teardown; run in reverse order of start, each even when another failed. */
type Closer = () => Promise<void>;

async function runClosers(closers: Closer[]): Promise<void> {
  const errors: string[] = [];
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  closers.length = 0;
  // The report is already made when close() runs: say it here rather than lose it.
  for (const e of errors) process.stderr.write(`parley bench: cluster teardown: ${e}\n`);
}

interface ProcEntry {
  readonly pid: number;
  readonly cmdline: string;
}

function listProcesses(): ProcEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return []; // not Linux: no support figures
  }
  const out: ProcEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(name), cmdline });
    } catch {
      continue; // the process ended while it was read
    }
  }
  return out;
}

/** The redis-server on `port`, found in /proc by its command line (the engine knows no pid). */
export function findRedisPids(port: number): number[] {
  return listProcesses()
    .filter(
      (p) =>
        p.cmdline.includes('redis-server') &&
        (p.cmdline.includes(`:${port}`) || p.cmdline.includes(`--port ${port}`)),
    )
    .map((p) => p.pid);
}

export async function startOwnCluster(plan: Plan, options: BenchOptions): Promise<Target> {
  const nodeCount = options.cluster ?? 2;
  const closers: Closer[] = [];
  try {
    const dir = mkdtempSync(join(tmpdir(), 'parley-bench-cluster-'));
    closers.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    // Loaded only here: the embedded runs never need them.
    const { startPostgres } = await import('../engines/index.js');
    const { startRedis } = await import('../engines/index.js');
    const postgres = await startPostgres();
    closers.push(() => postgres.stop());
    const redis = await startRedis();
    closers.push(() => redis.stop());
    const databaseUrl = await postgres.createDatabase('parley_bench');
    const pgPort = Number(new URL(databaseUrl).port);
    const seeded = await seedPostgres(databaseUrl, plan);

    // One data directory for every node: in cluster mode it holds only attachment blobs, which
    // every node must see (PARLEY_BLOB_DIR_SHARED).
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const started = await Promise.allSettled(
      Array.from({ length: nodeCount }, (_, i) => {
        const nodeId = `bench-${i + 1}`;
        return startChild({
          label: `parley node ${nodeId}`,
          args: [...profArgs(options), ...moduleArgs('cli'), 'serve'],
          env: serverEnv(plan, options, {
            PARLEY_DATA_DIR: dataDir,
            PARLEY_BLOB_DIR_SHARED: 'true',
            PARLEY_NODE_ID: nodeId,
            PARLEY_DATABASE_URL: databaseUrl,
            PARLEY_REDIS_URL: redis.url,
          }),
          readyMsg: 'parley listening',
          timeoutMs: START_TIMEOUT_MS,
        });
      }),
    );
    const nodes: ChildService[] = [];
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    closers.push(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    });
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;

    const httpUrls = nodes.map((node) => `http://127.0.0.1:${node.port}`);
    const wsUrls = nodes.map((node) => `ws://127.0.0.1:${node.port}/ws`);
    let redisPids: readonly number[] | null = null;
    return {
      kind: 'parley',
      description:
        `parley cluster of ${nodeCount} nodes (pids ${nodes.map((n) => n.pid).join(', ')}) at ` +
        `${httpUrls.join(', ')}; PostgreSQL on port ${pgPort}, Redis on port ${redis.port}`,
      httpUrl: httpUrls[0]!,
      wsUrl: wsUrls[0]!,
      wsUrls,
      pids: nodes.map((node) => node.pid),
      // The postmaster's tree is read whole at each reading (treeCpuSeconds), so backends that
      // the pools open or close during the run count too.
      support: () => {
        const postmaster = postgres.pid();
        return {
          postgres: postmaster !== null ? [postmaster] : [],
          redis: (redisPids ??= findRedisPids(redis.port)),
        };
      },
      metricsUrls: httpUrls.map((url) => `${url}/metrics`),
      ...seeded,
      heapUsed: () => Promise.resolve(null),
      warnings: () => {
        const lines = nodes.flatMap((node, i) => node.warnings.map((l) => `[bench-${i + 1}] ${l}`));
        return {
          count: nodes.reduce((n, node) => n + node.warningCount(), 0),
          lines: lines.slice(0, WARNING_LINES_MAX),
        };
      },
      close: () => runClosers(closers),
    };
  } catch (err) {
    await runClosers(closers);
    throw err;
  }
}
