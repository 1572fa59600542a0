import { TokenBucket } from './token-bucket.js';

/**
 * Token buckets by key (a user id, an address), in this process. A key's bucket is made full on
 * first use. When `entriesMax` keys are held, the oldest tenth are dropped: someone spraying
 * keys only makes the server forget, and a forgotten key starts full again.
 */
export class KeyedBuckets {
  private readonly ratePerSec: number;
  private readonly entriesMax: number;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(ratePerSec: number, entriesMax = 100_000) {
    this.ratePerSec = ratePerSec;
    this.entriesMax = entriesMax;
  }

  /** The key's bucket if it has one (nothing is created). */
  peek(key: string): TokenBucket | undefined {
    return this.buckets.get(key);
  }

  /** The key's bucket, created full with `burst` tokens on first use. */
  of(key: string, burst: number, nowMs: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      this.evictIfFull();
      bucket = new TokenBucket(this.ratePerSec, burst, nowMs);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  get size(): number {
    return this.buckets.size;
  }

  private evictIfFull(): void {
    if (this.buckets.size < this.entriesMax) return;
    // Maps iterate in insertion order: drop the oldest tenth.
    let drop = Math.max(1, Math.floor(this.entriesMax / 10));
    for (const key of this.buckets.keys()) {
      this.buckets.delete(key);
      if (--drop === 0) break;
    }
  }
}
