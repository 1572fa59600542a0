import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { HotMetrics } from '../core/metrics.js';
import { CLIENT_FRAME_TYPES } from '../protocol/index.js';
import { readThreadCpu } from './thread-cpu.js';
import { tallies, Tally, TallyHistogram } from './tally.js';

// Parley's Prometheus metrics (docs/operations.md lists them). One registry per Parley instance,
// so that several servers in one process (the tests) never share or clash over a series. The
// hot-path hooks (HotMetrics) only add to plain numbers (tally.ts), which a scrape hands to the
// series: no label object, string or closure is made per frame or message.

/** Server frame types counted by name; any other type counts as "other". */
const SERVER_FRAME_TYPES = [
  'welcome',
  'sent',
  'synced',
  'pulled',
  'message',
  'receipt',
  'recalled',
  'edited',
  'reaction',
  'hidden',
  'typing',
  'presence',
  'kicked',
  'contact',
  'profile',
  'member',
  'error',
  'ping',
  'pong',
] as const;

/** Bus message kinds (bus/bus.ts); any other counts as "other". */
const BUS_KINDS = ['push', 'conversation', 'kick', 'members-changed'] as const;
const TRANSPORTS = ['ws', 'tcp'] as const;

const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/** The `route` label of a request no route matched (a 404): one value, never the raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * sent: the gateway took it (2xx); removed: it answered 404/410, so the pusher was dropped;
 * failed: any other answer, a network error or a timeout; dropped: the queue was full.
 */
export const PUSH_RESULTS = ['sent', 'removed', 'failed', 'dropped'] as const;
export type PushResult = (typeof PUSH_RESULTS)[number];

export interface MetricsOptions {
  /** Added as a `node` label to every series: one value per process, so bounded. */
  readonly nodeId: string;
  /** process_* and nodejs_* series (memory, CPU, event-loop lag, GC). Default true. */
  readonly defaults?: boolean;
}

/**
 * `parley_thread_cpu_seconds_total{thread}`: this process's CPU by thread (thread-cpu.ts), read
 * at scrape time. Not registered where /proc cannot be read (not Linux).
 */
function threadCpuCounter(registry: Registry): void {
  if (readThreadCpu() === null) return;
  const seen = { event_loop: 0, append: 0, other: 0 };
  new Counter({
    name: 'parley_thread_cpu_seconds_total',
    help: 'CPU seconds of this process by thread: event_loop (the main thread, GC work on it included), append (the SQLite append thread), other (GC and compiler helpers, libuv pool, checkpointer).',
    labelNames: ['thread'],
    registers: [registry],
    collect() {
      const now = readThreadCpu();
      if (now === null) return;
      const totals = { event_loop: now.eventLoop, append: now.append, other: now.other };
      for (const thread of ['event_loop', 'append', 'other'] as const) {
        const total = totals[thread];
        if (total === null) continue; // no append thread: no series
        // A counter only grows: "other" is a difference of two readings and may dip by a hair.
        this.inc({ thread }, Math.max(0, total - seen[thread]));
        seen[thread] = Math.max(seen[thread], total);
      }
    },
  });
}

export class ParleyMetrics implements HotMetrics {
  readonly registry = new Registry();
  private readonly connectionsOpen: Record<'ws' | 'tcp', { inc(): void; dec(): void }>;
  private readonly connectionsTotal: Record<'ws' | 'tcp', Inc>;
  private readonly framesIn: { table: Record<string, Tally>; other: Tally };
  private readonly framesOut: { table: Record<string, Tally>; other: Tally };
  private readonly busOut: { table: Record<string, Tally>; other: Tally };
  private readonly busIn: { table: Record<string, Tally>; other: Tally };
  private readonly rateLimits = new Tally();
  private readonly overflows = new Tally();
  private readonly sends = new Tally();
  private readonly batchSize: TallyHistogram;
  private readonly commitLatency: TallyHistogram;
  private readonly deliverLatency: TallyHistogram;
  private readonly rpcCalls: Counter;
  private readonly pushes: Record<PushResult, Inc>;
  private readonly httpDuration: TallyHistogram;
  /** route → method → status → the bound child: no label object or string per request. */
  private readonly httpBound = new Map<string, Map<string, Map<number, Observe>>>();

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: options.nodeId });
    if (options.defaults ?? true) {
      collectDefaultMetrics({ register: this.registry });
      threadCpuCounter(this.registry);
    }

    const open = new Gauge({
      name: 'parley_connections',
      help: 'Open real-time connections, by transport.',
      labelNames: ['transport'],
      registers,
    });
    const opened = new Counter({
      name: 'parley_connections_opened_total',
      help: 'Real-time connections accepted, by transport.',
      labelNames: ['transport'],
      registers,
    });
    this.connectionsOpen = { ws: open.labels('ws'), tcp: open.labels('tcp') };
    this.connectionsTotal = { ws: opened.labels('ws'), tcp: opened.labels('tcp') };
    for (const t of TRANSPORTS) open.labels(t).set(0);

    const labelled = (name: string, help: string, label: string) => (collect: () => void) =>
      new Counter({ name, help, labelNames: [label], registers, collect });
    this.framesIn = tallies(
      CLIENT_FRAME_TYPES,
      labelled('parley_frames_in_total', 'Valid real-time frames received, by frame type.', 'type'),
    );
    this.framesOut = tallies(
      SERVER_FRAME_TYPES,
      labelled(
        'parley_frames_out_total',
        'Real-time frames written to sessions (each recipient counts), by frame type.',
        'type',
      ),
    );
    this.busOut = tallies(
      BUS_KINDS,
      labelled(
        'parley_bus_published_total',
        'Bus messages published to other nodes (direct or broadcast), by kind.',
        'kind',
      ),
    );
    this.busIn = tallies(
      BUS_KINDS,
      labelled(
        'parley_bus_received_total',
        'Bus messages received from other nodes, by kind.',
        'kind',
      ),
    );
    const plain = (name: string, help: string, tally: Tally) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          tally.flushTo(this);
        },
      });
    plain(
      'parley_rate_limited_total',
      'Real-time frames refused by a connection rate limit.',
      this.rateLimits,
    );
    plain(
      'parley_queue_overflows_total',
      'Connections closed because their send queue overflowed (slow readers, 4503).',
      this.overflows,
    );
    plain(
      'parley_sends_total',
      'Sends that reached a group-commit transaction (stored, or answered as duplicates).',
      this.sends,
    );
    const registry = this.registry;
    this.batchSize = new TallyHistogram({
      name: 'parley_commit_batch_size',
      help: 'Sends per group-commit transaction.',
      buckets: BATCH_BUCKETS,
      registry,
    });
    this.commitLatency = new TallyHistogram({
      name: 'parley_send_commit_seconds',
      help: 'From a send entering group commit to its transaction committing.',
      buckets: LATENCY_BUCKETS_S,
      registry,
    });
    this.deliverLatency = new TallyHistogram({
      name: 'parley_send_deliver_seconds',
      help: "From a message's send time (stamped at commit, ms precision) to its push being written to this node's recipients.",
      buckets: LATENCY_BUCKETS_S,
      registry,
    });
    this.rpcCalls = new Counter({
      name: 'parley_rpc_requests_total',
      help: 'gRPC calls served, by method and gRPC status code.',
      labelNames: ['method', 'code'],
      registers,
    });
    const pushes = new Counter({
      name: 'parley_pushes_total',
      help: 'Push notifications to push gateways, by result (docs/push.md).',
      labelNames: ['result'],
      registers,
    });
    this.httpDuration = new TallyHistogram({
      name: 'parley_http_request_duration_seconds',
      help: 'HTTP requests answered, by route pattern, method and status: from the request arriving to its answer written.',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS_S,
      registry,
    });
    this.pushes = Object.fromEntries(
      PUSH_RESULTS.map((r) => {
        const bound = pushes.labels(r);
        bound.inc(0);
        return [r, bound];
      }),
    ) as Record<PushResult, Inc>;
  }

  /**
   * An HTTP request answered. `route` is the matched route's pattern (`/v1/conversations/:id`),
   * undefined when none matched: label values come from the registered routes, a fixed set,
   * never from the URL. Children are bound on first use and kept, three map reads after that.
   */
  httpRequest(route: string | undefined, method: string, status: number, seconds: number): void {
    const pattern = route ?? UNMATCHED_ROUTE;
    let methods = this.httpBound.get(pattern);
    if (!methods) this.httpBound.set(pattern, (methods = new Map<string, Map<number, Observe>>()));
    let statuses = methods.get(method);
    if (!statuses) methods.set(method, (statuses = new Map<number, Observe>()));
    let bound = statuses.get(status);
    if (!bound) {
      bound = this.httpDuration.labels(pattern, method, String(status));
      statuses.set(status, bound);
    }
    bound.observe(seconds);
  }

  /** A push notification's outcome (push/push-notifier.ts). */
  pushed(result: PushResult): void {
    this.pushes[result].inc();
  }

  // --- HotMetrics -----------------------------------------------------------------------------

  connectionOpened(transport: 'ws' | 'tcp'): void {
    this.connectionsOpen[transport].inc();
    this.connectionsTotal[transport].inc();
  }

  connectionClosed(transport: 'ws' | 'tcp'): void {
    this.connectionsOpen[transport].dec();
  }

  frameIn(type: string): void {
    (this.framesIn.table[type] ?? this.framesIn.other).inc();
  }

  frameOut(type: string): void {
    (this.framesOut.table[type] ?? this.framesOut.other).inc();
  }

  rateLimited(): void {
    this.rateLimits.inc();
  }

  queueOverflow(): void {
    this.overflows.inc();
  }

  committed(batch: readonly { readonly atMs: number }[]): void {
    const now = performance.now();
    this.sends.inc(batch.length);
    this.batchSize.observe(batch.length);
    for (const item of batch) this.commitLatency.observe((now - item.atMs) / 1000);
  }

  delivered(frame: { readonly type: string; readonly at?: number }): void {
    if (frame.type === 'message' && frame.at !== undefined) {
      this.deliverLatency.observe(Math.max(0, Date.now() - frame.at) / 1000);
    }
  }

  // --- elsewhere ------------------------------------------------------------------------------

  busPublished(kind: string): void {
    (this.busOut.table[kind] ?? this.busOut.other).inc();
  }

  busReceived(kind: string): void {
    (this.busIn.table[kind] ?? this.busIn.other).inc();
  }

  /** `method` is one of the fixed RPC method names; `code` a gRPC status name. */
  rpcCall(method: string, code: string): void {
    this.rpcCalls.labels(method, code).inc();
  }

  /** A gauge read at scrape time (e.g. a bus's dropped messages). */
  gaugeFrom(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /**
   * A counter per `label` value whose totals another part keeps (read at scrape time): each
   * scrape adds what grew since the last one.
   */
  countersFrom(
    name: string,
    help: string,
    label: string,
    read: () => Readonly<Record<string, number>>,
  ): void {
    const seen = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        for (const [value, total] of Object.entries(read())) {
          const grew = total - (seen.get(value) ?? 0);
          if (grew > 0) this.inc({ [label]: value }, grew);
          seen.set(value, total);
        }
      },
    });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
