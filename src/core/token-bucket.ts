/**
 * A token bucket: `ratePerSec` tokens flow in per second up to `burstMax`; each action takes one.
 * Time is passed in, so the bucket is pure and testable.
 */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly burstMax: number;
  private tokens: number;
  private lastMs: number;

  constructor(ratePerSec: number, burstMax: number, nowMs: number) {
    this.ratePerMs = ratePerSec / 1000;
    this.burstMax = burstMax;
    this.tokens = burstMax;
    this.lastMs = nowMs;
  }

  /** Whether a token is there now (takes nothing). */
  has(nowMs: number): boolean {
    return this.level(nowMs) >= 1;
  }

  /** How long until a token is there; 0 if one is. */
  msUntilToken(nowMs: number): number {
    const missing = 1 - this.level(nowMs);
    return missing <= 0 ? 0 : Math.ceil(missing / this.ratePerMs);
  }

  private level(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.lastMs);
    return Math.min(this.burstMax, this.tokens + elapsed * this.ratePerMs);
  }

  /** Puts back a token taken earlier (the bucket never holds more than its burst). */
  giveBack(nowMs: number): void {
    this.tokens = Math.min(this.burstMax, this.level(nowMs) + 1);
    this.lastMs = Math.max(this.lastMs, nowMs);
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.tokens = Math.min(this.burstMax, this.tokens + elapsed * this.ratePerMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
