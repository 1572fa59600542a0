// The metrics the hot paths report, as one small interface: the gateway, the delivery router and
// the group committer call it once per event, and observability/metrics.ts backs it with plain
// numbers that a scrape hands to prom-client (observability/tally.ts). Every method is cheap by
// contract: it adds to a number, allocates nothing and builds no strings, so a hook costs about
// what a property read costs.
// Label values come from fixed lists (transports, frame types); an unknown frame type counts as
// "other", never as a new series. No user or conversation id is ever a label.

export interface HotMetrics {
  /** A real-time connection was accepted (before hello). */
  connectionOpened(transport: 'ws' | 'tcp'): void;
  connectionClosed(transport: 'ws' | 'tcp'): void;
  /** A decoded, valid client frame. */
  frameIn(type: string): void;
  /** A frame written to one session (a reply, or one recipient's copy of a push). */
  frameOut(type: string): void;
  /** A frame refused by a connection's rate limit. */
  rateLimited(): void;
  /** A connection cut because its send queue overflowed (a reader too slow, 4503). */
  queueOverflow(): void;
  /** One group-commit transaction stored these sends; `atMs` is each send's submit time. */
  committed(batch: readonly { readonly atMs: number }[]): void;
  /** A push of this frame was written to this node's recipients (message frames are timed). */
  delivered(frame: { readonly type: string; readonly at?: number }): void;
}

/** Submit times for HotMetrics.committed: a monotonic clock in milliseconds. */
export const metricsNowMs: () => number = () => performance.now();
