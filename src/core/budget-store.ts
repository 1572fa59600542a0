import { KeyedBuckets } from './keyed-buckets.js';

// The BudgetStore seam: token buckets by key, behind the login throttle and the per-user budgets
// (REST sends, first contacts). A bucket holds `burst` tokens when first used and gains one every
// `refillMs`; an action takes one.
//
// Contract (every backend; proven by budget-store.contract.ts):
// - take() takes a token if there is one and resolves 0, else takes nothing and resolves the
//   milliseconds until one is there (> 0). wait() is the same answer without taking.
// - Keys are independent. A key is used with one burst and one refillMs.
// - The memory store is this process's; the Redis store (bus/redis-budget-store.ts) is shared by
//   every node on the Redis, so a cluster of N nodes allows what one node does, not N times it.
// - take() and wait() never reject: a store that cannot reach its backend answers from a bucket
//   of its own process meanwhile (the budget is then per node, as it was before clusters shared
//   it), so an outage slows nothing down and refuses no one.

export interface BudgetStore {
  take(key: string, burst: number, refillMs: number, nowMs: number): Promise<number>;
  wait(key: string, burst: number, refillMs: number, nowMs: number): Promise<number>;
}

/** Buckets in this process (one node, tests, and the Redis store's fallback). */
export class MemoryBudgetStore implements BudgetStore {
  private readonly byRefill = new Map<number, KeyedBuckets>();
  private readonly entriesMax: number | undefined;

  constructor(options: { entriesMax?: number } = {}) {
    this.entriesMax = options.entriesMax;
  }

  take(key: string, burst: number, refillMs: number, nowMs: number): Promise<number> {
    return Promise.resolve(this.takeNow(key, burst, refillMs, nowMs));
  }

  wait(key: string, burst: number, refillMs: number, nowMs: number): Promise<number> {
    return Promise.resolve(this.waitNow(key, burst, refillMs, nowMs));
  }

  /** take(), answered at once. */
  takeNow(key: string, burst: number, refillMs: number, nowMs: number): number {
    const bucket = this.buckets(refillMs).of(key, burst, nowMs);
    return bucket.take(nowMs) ? 0 : Math.max(1, bucket.msUntilToken(nowMs));
  }

  /** wait(), answered at once; a key never used has a full bucket. */
  waitNow(key: string, _burst: number, refillMs: number, nowMs: number): number {
    return this.buckets(refillMs).peek(key)?.msUntilToken(nowMs) ?? 0;
  }

  private buckets(refillMs: number): KeyedBuckets {
    let buckets = this.byRefill.get(refillMs);
    if (!buckets) {
      buckets = new KeyedBuckets(1000 / refillMs, this.entriesMax);
      this.byRefill.set(refillMs, buckets);
    }
    return buckets;
  }
}
