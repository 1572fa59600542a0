// Reconnect delays: "full jitter" exponential backoff, as docs/protocol.md §8 recommends. A random
// delay spreads the reconnects of many clients after a server restart.

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** A delay in [0, min(maxMs, baseMs × 2^attempt)]; `random` is injectable for tests. */
export function backoffDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
