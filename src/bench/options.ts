import { parseArgs } from 'node:util';

// The command line of `parley bench`. Every run is bounded: a count (connections, messages) and a
// time cap (--duration-s), whichever comes first ends it.

export const SCENARIOS = [
  'direct',
  'group',
  'connect',
  'reconnect-storm',
  'http-send',
  'http-pull',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly messages: number;
  /** Sends per second per sender; 0 = as fast as acks allow. */
  readonly rate: number;
  readonly inflight: number;
  /** direct and group: latencies of messages sent in the first this many seconds are not counted. */
  readonly warmupS: number;
  readonly members: number;
  readonly senders: number;
  /** The cap of a WebSocket scenario, or the length of an HTTP one. */
  readonly durationS: number;
  /** How long `connect` holds its idle connections. */
  readonly holdS: number;
  /** Connections opened at once (connect, reconnect-storm, and the setup of the others). */
  readonly concurrency: number;
  /** The server's heartbeat interval (own server only). */
  readonly heartbeatMs: number;
  readonly sqliteSynchronous: 'normal' | 'full';
  /** Own server only: write a V8 CPU profile (node --cpu-prof) into this directory. */
  readonly cpuProfDir: string | null;
  /**
   * Own server only: run Parley as this many nodes on a real PostgreSQL and Redis (direct and
   * group only), with the clients spread round-robin over the nodes; null for the embedded server.
   */
  readonly cluster: number | null;
  readonly url: string | null;
  readonly pid: number | null;
  readonly baseline: boolean;
  readonly compare: boolean;
  readonly json: boolean;
  /** Draw the live progress line (only on a terminal, and never with --json). */
  readonly progress: boolean;
}

export const USAGE = `Usage: parley bench <scenario> [flags]

Scenarios:
  direct            N connections in N/2 pairs; every connection sends M messages to its peer
  group             one group of G members, all online; S of them send M messages each
  connect           N idle authenticated connections: connect time and server memory each
  reconnect-storm   N connections drop at once, reconnect and sync
  http-send         POST /api/send of the seed API, with autocannon
  http-pull         GET /api/pull (JSON body) of the seed API, with autocannon

Flags:
  --connections N   connections (direct 200, connect 1000, reconnect-storm 1000, http 100)
  --messages M      messages per sender (default 100)
  --rate R          sends per second per sender; 0 = as fast as acks allow (default 0)
  --inflight K      unacknowledged sends per connection at most (default 10)
  --warmup-s W      direct and group: messages sent in the first W seconds are delivered and
                    checked, but their latencies are not counted (default 0)
  --members G       group members (default 100)
  --senders S       group senders (default 10)
  --duration-s D    time cap of a WebSocket scenario (default 60); length of an HTTP one (default 10)
  --hold-s H        how long connect holds its connections (default 3)
  --concurrency C   connections opened at once (default 200; reconnect-storm: all)
  --heartbeat-ms T  own server's heartbeat interval (default 20000; connect: 1000)
  --sqlite-synchronous normal|full   own server's durability (default normal)
  --cpu-prof DIR    own server runs with node --cpu-prof; the .cpuprofile lands in DIR
  --cluster N       direct and group only: own server as N ≥ 2 nodes on a fresh PostgreSQL and
                    Redis, clients spread round-robin over them (the baseline stays one relay)
  --url URL         target a running server (its seed API must be open for http-*) instead of
                    starting one; users are registered through REST
  --pid PID         with --url: the server's pid, for CPU and memory figures
  --baseline        run against the bare baseline instead of Parley
  --compare         run Parley, then the baseline, and print the ratios
  --json            print one JSON object instead of text
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function intFlag(raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        connections: { type: 'string' },
        messages: { type: 'string' },
        rate: { type: 'string' },
        inflight: { type: 'string' },
        'warmup-s': { type: 'string' },
        members: { type: 'string' },
        senders: { type: 'string' },
        'duration-s': { type: 'string' },
        'hold-s': { type: 'string' },
        concurrency: { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'sqlite-synchronous': { type: 'string' },
        'cpu-prof': { type: 'string' },
        cluster: { type: 'string' },
        url: { type: 'string' },
        pid: { type: 'string' },
        baseline: { type: 'boolean' },
        compare: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const scenario = parsed.positionals[0];
  if (scenario === undefined) throw new UsageError('name a scenario');
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new UsageError(`unknown scenario "${scenario}"`);
  }
  const name = scenario as ScenarioName;
  const http = name === 'http-send' || name === 'http-pull';
  const manyIdle = name === 'connect' || name === 'reconnect-storm';
  const connections = intFlag(v.connections, 'connections', http ? 100 : manyIdle ? 1000 : 200, 1);
  if (name === 'direct' && connections % 2 !== 0) {
    throw new UsageError('direct needs an even number of --connections (pairs)');
  }
  const members = intFlag(v.members, 'members', 100, 2);
  const senders = intFlag(v.senders, 'senders', 10, 1);
  if (senders > members) throw new UsageError('--senders cannot exceed --members');
  const synchronous = v['sqlite-synchronous'] ?? 'normal';
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw new UsageError('--sqlite-synchronous must be normal or full');
  }
  if (v.baseline && v.compare) throw new UsageError('--baseline and --compare exclude each other');
  if (v.url !== undefined && !/^https?:\/\//.test(v.url)) {
    throw new UsageError('--url must be http://host:port');
  }
  let cluster: number | null = null;
  if (v.cluster !== undefined) {
    cluster = intFlag(v.cluster, 'cluster', 2, 2);
    if (!Number.isInteger(cluster)) throw new UsageError('--cluster must be a whole number ≥ 2');
    if (name !== 'direct' && name !== 'group') {
      throw new UsageError('--cluster applies to the direct and group scenarios only');
    }
    if (v.url !== undefined) throw new UsageError('--cluster and --url exclude each other');
  }
  const json = v.json ?? false;
  return {
    scenario: name,
    connections,
    messages: intFlag(v.messages, 'messages', 100, 1),
    rate: intFlag(v.rate, 'rate', 0, 0),
    inflight: intFlag(v.inflight, 'inflight', 10, 1),
    warmupS: intFlag(v['warmup-s'], 'warmup-s', 0, 0),
    members,
    senders,
    durationS: intFlag(v['duration-s'], 'duration-s', http ? 10 : 60, 0.1),
    holdS: intFlag(v['hold-s'], 'hold-s', 3, 0),
    concurrency: intFlag(
      v.concurrency,
      'concurrency',
      name === 'reconnect-storm' ? connections : 200,
      1,
    ),
    heartbeatMs: intFlag(v['heartbeat-ms'], 'heartbeat-ms', name === 'connect' ? 1000 : 20_000, 1),
    sqliteSynchronous: synchronous,
    cpuProfDir: v['cpu-prof'] ?? null,
    cluster,
    url: v.url !== undefined ? v.url.replace(/\/+$/, '') : null,
    pid: v.pid !== undefined ? intFlag(v.pid, 'pid', 0, 1) : null,
    baseline: v.baseline ?? false,
    compare: v.compare ?? false,
    json,
    progress: !json && process.stdout.isTTY === true,
  };
}
