import { ParleyError } from './errors.js';
import { KeyedBuckets } from './keyed-buckets.js';

/**
 * A per-user token bucket that refuses with `rate_limited` (and the wait) once spent: `burst`
 * actions at once, then one more every `refillMs`. Buckets live in this process, so on a cluster
 * the budget is per node (docs/decisions.md), like the login throttle and the REST send budget.
 */
export class UserBudget {
  private readonly burst: number;
  private readonly buckets: KeyedBuckets;
  private readonly refusal: string;

  constructor(options: { burst: number; refillMs: number; refusal: string }) {
    this.burst = options.burst;
    this.buckets = new KeyedBuckets(1000 / options.refillMs);
    this.refusal = options.refusal;
  }

  /** Takes one action from the user's budget, or throws `rate_limited` with the wait. */
  take(userId: string, nowMs: number): void {
    const bucket = this.buckets.of(userId, this.burst, nowMs);
    if (bucket.take(nowMs)) return;
    throw new ParleyError('rate_limited', this.refusal, {
      retryAfterMs: bucket.msUntilToken(nowMs),
    });
  }
}
