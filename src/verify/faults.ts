// The faults of a verify run. A fault starts, holds for a while, and ends (heals); the schedule
// runs them one at a time, each kind and target drawn from the run's seed, so that a failing run
// replays from its seed. `healAll` undoes whatever a fault left behind when a run is cut short.
import type { VerifyClient } from './client.js';
import type { Random } from './random.js';
import { PRESENCE_TTL_MS, type System } from './systems.js';

export const EMBEDDED_FAULTS = [
  'kill-server',
  'pause-server',
  'cut-clients-mid-send',
  'crash-machine',
] as const;

export const CLUSTER_FAULTS = [
  'kill-node',
  'pause-node',
  'kill-redis',
  'pause-redis',
  'restart-postgres',
  'kill-postgres-backends',
  'cut-node-redis',
  'cut-node-postgres',
  'cut-node-clients',
  'cut-clients-mid-send',
  'crash-machine',
] as const;

/** Faults that need hosts of their own: skipped (and said so) on the 127.0.0.1 fallback. */
const NETWORK_FAULTS = new Set(['cut-node-redis', 'cut-node-postgres', 'cut-node-clients']);

export type FaultKind = (typeof EMBEDDED_FAULTS)[number] | (typeof CLUSTER_FAULTS)[number];

export interface Fault {
  readonly kind: FaultKind;
  readonly target: string;
  start(): Promise<void>;
  /** How long the fault holds before `end`. */
  readonly holdMs: number;
  end(): Promise<void>;
}

/** The kinds a system can inject. */
export function faultKinds(system: System): FaultKind[] {
  if (system.mode === 'embedded') return [...EMBEDDED_FAULTS];
  const isolated = system.network?.isolated ?? false;
  return CLUSTER_FAULTS.filter((k) => isolated || !NETWORK_FAULTS.has(k));
}

const noop = (): Promise<void> => Promise.resolve();
/** A synchronous step as a fault's start or end. */
const now = (step: () => void) => (): Promise<void> => {
  step();
  return Promise.resolve();
};

/** Builds one fault of `kind`, its target and hold drawn from `random`. */
export function makeFault(
  kind: FaultKind,
  system: System,
  clients: readonly VerifyClient[],
  random: Random,
): Fault {
  const nodeIndex = random.int(0, system.nodes.length - 1);
  const node = system.nodes[nodeIndex]!;
  const hold = (min: number, max: number): number => random.int(min, max);
  switch (kind) {
    case 'kill-server':
    case 'kill-node':
      return {
        kind,
        target: node.name,
        start: () => node.kill(),
        holdMs: hold(0, 1_500),
        end: () => node.start(),
      };
    case 'pause-server':
    case 'pause-node':
      // Longer than the presence TTL: the node wakes as a zombie, its presence long expired.
      return {
        kind,
        target: node.name,
        start: now(() => node.pause()),
        holdMs: hold(PRESENCE_TTL_MS + 500, PRESENCE_TTL_MS + 3_000),
        end: now(() => node.resume()),
      };
    case 'cut-clients-mid-send': {
      const cut = clients.filter(() => random.next() < 0.5);
      return {
        kind,
        target: `${cut.length} clients`,
        start: now(() => cut.forEach((c) => c.cutMidSend())),
        holdMs: hold(200, 1_000),
        end: noop,
      };
    }
    case 'crash-machine':
      return crashMachine(system, hold(500, 1_500));
    default:
      return clusterFault(kind, system, nodeIndex, hold);
  }
}

function clusterFault(
  kind: FaultKind,
  system: System,
  nodeIndex: number,
  hold: (min: number, max: number) => number,
): Fault {
  const { postgres, redis, network, nodes, hosts } = system;
  if (!postgres || !redis || !hosts.pg || !hosts.redis) throw new Error(`${kind} needs a cluster`);
  const node = nodes[nodeIndex]!;
  const nodeHost = hosts.nodes[nodeIndex]!;
  const cut = (other: Parameters<NonNullable<typeof network>['cut']>[1]): Fault => ({
    kind,
    target: node.name,
    start: () => network!.cut(nodeHost, other),
    holdMs: hold(1_000, 5_000),
    end: () => network!.heal(nodeHost, other),
  });
  switch (kind) {
    case 'kill-redis':
      return {
        kind,
        target: 'redis',
        start: () => redis.kill(),
        holdMs: hold(200, 2_000),
        end: () => redis.start(),
      };
    case 'pause-redis':
      return {
        kind,
        target: 'redis',
        start: now(() => redis.pause()),
        holdMs: hold(500, 4_000),
        end: now(() => redis.resume()),
      };
    case 'restart-postgres':
      return {
        kind,
        target: 'postgres',
        start: () => postgres.stopFast(),
        holdMs: hold(200, 2_000),
        end: () => postgres.start(),
      };
    case 'kill-postgres-backends':
      return {
        kind,
        target: 'postgres',
        start: async () => void (await postgres.terminateBackends()),
        holdMs: 0,
        end: noop,
      };
    case 'cut-node-redis':
      return cut(hosts.redis);
    case 'cut-node-postgres':
      return cut(hosts.pg);
    case 'cut-node-clients':
      return cut('clients');
    default:
      throw new Error(`no fault ${kind} in cluster mode`);
  }
}

/**
 * Every process of the system killed at once, then started again: PostgreSQL first (it recovers
 * from its WAL, which is fsynced: the cluster runs it durable), Redis (empty), the nodes. On the
 * embedded server that is the one process, and what it rests on is PARLEY_SQLITE_SYNCHRONOUS
 * (`--synchronous full` for the power-cut setting). Killing processes does not drop the kernel's
 * page cache, so this proves recovery after a crash of every process, not survival of a power
 * cut; that rests on the fsync settings docs/reliability.md names.
 */
function crashMachine(system: System, holdMs: number): Fault {
  const { postgres, redis, nodes } = system;
  return {
    kind: 'crash-machine',
    target: 'all',
    start: async () => {
      // Settled, not all: every kill is done (or failed) before anything is started again.
      const kills: Promise<void>[] = nodes.map((n) => n.kill());
      if (redis) kills.push(redis.kill());
      if (postgres) kills.push(postgres.kill());
      const failed = (await Promise.allSettled(kills)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    holdMs,
    end: async () => {
      const engines: Promise<void>[] = [];
      if (postgres) engines.push(postgres.start());
      if (redis) engines.push(redis.start());
      await Promise.all(engines);
      await Promise.all(nodes.map((n) => n.start()));
    },
  };
}

/** Undoes every fault: resumes paused processes, heals cuts, starts whatever is down. */
export async function healAll(system: System): Promise<void> {
  for (const node of system.nodes) node.resume();
  await system.network?.healAll();
  if (system.postgres && system.postgres.pid() === null) await system.postgres.start();
  if (system.redis) {
    try {
      system.redis.resume();
    } catch {
      await system.redis.start(); // not running: it was killed
    }
  }
  await Promise.all(system.nodes.filter((n) => !n.running).map((n) => n.start()));
}
