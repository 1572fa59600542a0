import type { BudgetStore } from './budget-store.js';
import { ParleyError } from './errors.js';

/**
 * A per-user token bucket that refuses with `rate_limited` (and the wait) once spent: `burst`
 * actions at once, then one more every `refillMs`. The buckets are in a BudgetStore: this
 * process's, or Redis's on a cluster, where every node shares them
 * (docs/decisions/0024-budgets-shared-on-a-cluster.md).
 */
export class UserBudget {
  private readonly store: BudgetStore;
  private readonly name: string;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly refusal: string;

  constructor(
    store: BudgetStore,
    options: { name: string; burst: number; refillMs: number; refusal: string },
  ) {
    this.store = store;
    this.name = options.name;
    this.burst = options.burst;
    this.refillMs = options.refillMs;
    this.refusal = options.refusal;
  }

  /** Takes one action from the user's budget, or rejects with `rate_limited` and the wait. */
  async take(userId: string, nowMs: number): Promise<void> {
    const wait = await this.store.take(`${this.name}:${userId}`, this.burst, this.refillMs, nowMs);
    if (wait > 0) throw new ParleyError('rate_limited', this.refusal, { retryAfterMs: wait });
  }
}
