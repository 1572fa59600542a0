import { KeyedBuckets } from './keyed-buckets.js';

// The BudgetStore seam: token buckets by key, behind the login throttle and the per-user budgets
// (REST sends, first contacts). A bucket holds `burst` tokens when first used and gains one every
// `refillMs`; an action takes one.
//
// Contract (every backend; proven by budget-store.contract.ts):
// - take() takes a token if there is one and resolves 0, else takes nothing and resolves the
//   milliseconds until one is there (> 0). wait() is the same answer without taking.
// - takeAll() is take() on several buckets at once, all or nothing: if every bucket has a token it
//   takes one from each and resolves all 0s; else it takes none and resolves each bucket's wait
//   (0 for those that had a token). Concurrent calls, on any node, never both get the last token.
//   So a caller can hold tokens while it works (the login throttle, during argon2), and a refusal
//   drains no bucket.
// - giveBack() puts back a token that takeAll() took, once what it paid for turned out free (a
//   right password); a bucket never holds more than its burst.
// - Keys are independent. A key is used with one burst and one refillMs. The keys of one
//   takeAll() or giveBack() are distinct and share their group (budgetGroup(): the part before the
//   first ":"), which a sharded backend keeps in one place so that the take stays atomic.
// - The memory store is this process's; the Redis store (bus/redis-budget-store.ts) is shared by
//   every node on the Redis, so a cluster of N nodes allows what one node does, not N times it.
// - No method rejects: a store that cannot reach its backend answers from a bucket of its own
//   process meanwhile (the budget is then per node, as it was before clusters shared it), so an
//   outage slows nothing down and refuses no one. A token given back after the backend changed
//   lands where it can (at worst in a bucket that was full, which stays full).

/** A bucket and how it is used: a key is always used with the same burst and refill. */
export interface Budget {
  readonly key: string;
  readonly burst: number;
  readonly refillMs: number;
}

export interface BudgetStore {
  take(key: string, burst: number, refillMs: number, nowMs: number): Promise<number>;
  wait(key: string, burst: number, refillMs: number, nowMs: number): Promise<number>;
  takeAll(budgets: readonly Budget[], nowMs: number): Promise<number[]>;
  giveBack(budgets: readonly Budget[], nowMs: number): Promise<void>;
}

/** The key's group: the part before its first ":", or the whole key. */
export function budgetGroup(key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
}

/** Refuses budgets that takeAll() and giveBack() cannot take together (a caller's bug). */
export function assertOneGroup(budgets: readonly Budget[]): void {
  const group = budgets[0] && budgetGroup(budgets[0].key);
  if (budgets.some((b) => budgetGroup(b.key) !== group)) {
    throw new Error(`budgets taken together must share a group: ${group}`);
  }
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

  takeAll(budgets: readonly Budget[], nowMs: number): Promise<number[]> {
    return Promise.resolve(this.takeAllNow(budgets, nowMs));
  }

  giveBack(budgets: readonly Budget[], nowMs: number): Promise<void> {
    this.giveBackNow(budgets, nowMs);
    return Promise.resolve();
  }

  /** takeAll(), answered at once: nothing else runs between the looks and the takes. */
  takeAllNow(budgets: readonly Budget[], nowMs: number): number[] {
    assertOneGroup(budgets);
    const waits = budgets.map((b) => this.waitNow(b.key, b.burst, b.refillMs, nowMs));
    if (waits.every((wait) => wait === 0)) {
      for (const b of budgets) this.takeNow(b.key, b.burst, b.refillMs, nowMs);
    }
    return waits;
  }

  /** giveBack(), at once; a key this store does not hold is full already. */
  giveBackNow(budgets: readonly Budget[], nowMs: number): void {
    assertOneGroup(budgets);
    for (const b of budgets) this.buckets(b.refillMs).peek(b.key)?.giveBack(nowMs);
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
