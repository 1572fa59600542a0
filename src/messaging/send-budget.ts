import { ParleyError } from '../core/errors.js';
import { KeyedBuckets } from '../core/keyed-buckets.js';

// The REST send budget: what a real-time connection gets per link (PARLEY_SEND_RATE_PER_SEC,
// PARLEY_SEND_BURST_MAX), a user gets over REST for the routes that write messages (send, edit,
// recall, reactions). Buckets live in this process: on a cluster the budget is per node, like the
// login throttle (docs/decisions.md). The seed API has none (its wrk scripts send from one user
// as fast as they can), and gRPC callers are trusted backends.

export class SendBudget {
  private readonly burst: number;
  private readonly buckets: KeyedBuckets;

  constructor(options: { ratePerSec: number; burstMax: number }) {
    this.burst = options.burstMax;
    this.buckets = new KeyedBuckets(options.ratePerSec);
  }

  /** Takes one send from the user's budget, or throws `rate_limited` with the wait. */
  take(userId: string, nowMs: number): void {
    const bucket = this.buckets.of(userId, this.burst, nowMs);
    if (bucket.take(nowMs)) return;
    throw new ParleyError('rate_limited', 'Too many sends; slow down.', {
      retryAfterMs: bucket.msUntilToken(nowMs),
    });
  }
}
