// What a scenario runs against: a Parley server (its own child process, or one at --url) or a
// baseline (a bare relay or a bare HTTP responder), with the users, tokens and conversations the
// scenario's plan asked for already in place.

export type TargetKind = 'parley' | 'baseline';

/** What a scenario needs to exist before it starts. */
export interface Plan {
  /** Users, each with a token for device "bench". */
  readonly users: number;
  /** A direct conversation for each pair of users (0, 1), (2, 3), … */
  readonly pairs: boolean;
  /** One group of users[0 .. groupMembers - 1]; 0 for none. */
  readonly groupMembers: number;
  /** An HTTP scenario: the seed API must be open, the baseline is the bare HTTP responder. */
  readonly http: boolean;
  /** The server's heap is read after a full GC (Target.heapUsed): its inspector is opened. */
  readonly heap?: boolean;
}

/** A cluster's support processes: the roots of PostgreSQL's tree (its postmaster) and Redis's. */
export interface SupportRoots {
  readonly postgres: readonly number[];
  readonly redis: readonly number[];
}

export interface BenchUser {
  readonly id: string;
  readonly username: string;
  readonly token: string;
  readonly device: string;
}

export interface Target {
  readonly kind: TargetKind;
  /** One line: what this is and where. */
  readonly description: string;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /**
   * Every node's WebSocket URL: [wsUrl] for one server, one per node for a cluster. Clients that
   * spread over the nodes take wsUrls[i % length] for user i.
   */
  readonly wsUrls: readonly string[];
  /**
   * The server processes measured for CPU and memory: the child (or the --pid) of a single
   * server, every node of a cluster; empty when unknown.
   */
  readonly pids: readonly number[];
  /** A cluster's PostgreSQL and Redis processes, found when called; null for anything else. */
  support(): SupportRoots | null;
  /**
   * Every node's /metrics URL, read at the start and end of a run for the cost of a message by
   * thread (cost.ts); empty for a baseline, which has none.
   */
  readonly metricsUrls: readonly string[];
  readonly users: readonly BenchUser[];
  /** The direct conversation of pair k (users 2k and 2k+1). */
  readonly directs: readonly string[];
  readonly group: string | null;
  /**
   * The server's JS heap in use after a full GC (heap-probe.ts), for a plan with `heap` and one
   * own child process (Parley or the baseline); null otherwise.
   */
  heapUsed(): Promise<number | null>;
  /** Warnings and errors the server logged (own child processes only). */
  warnings(): { readonly count: number; readonly lines: readonly string[] };
  close(): Promise<void>;
}

export const BENCH_DEVICE = 'bench';
