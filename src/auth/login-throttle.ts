import { KeyedBuckets } from '../core/keyed-buckets.js';

// Slows down password guessing. Every failed login takes a token from two buckets: the
// username's and the client address's. While either is empty, logins for that username or from
// that address are refused with `rate_limited` before any password is checked (so a flood also
// costs no argon2 time). Successful logins take nothing. Buckets live in this process: on a
// cluster each node keeps its own, so the allowance is per node (docs/decisions.md).

export interface LoginThrottleOptions {
  /** Failed logins a username may have in a burst. */
  readonly userBurst: number;
  /** Failed logins an address may have in a burst (several users share a NAT). */
  readonly addressBurst: number;
  /** How fast a bucket refills: one failure forgiven every this many ms. */
  readonly refillMs: number;
  /** Buckets kept; when full, the oldest are dropped (an attacker spraying keys only forgets). */
  readonly entriesMax?: number;
}

export class LoginThrottle {
  private readonly options: LoginThrottleOptions;
  private readonly buckets: KeyedBuckets;

  constructor(options: LoginThrottleOptions) {
    this.options = options;
    this.buckets = new KeyedBuckets(1000 / options.refillMs, options.entriesMax);
  }

  /** Milliseconds until a login for this username from this address may be tried; 0: now. */
  waitMs(username: string, address: string | undefined, nowMs: number): number {
    const keys = this.keysOf(username, address);
    let wait = 0;
    for (const [key] of keys) {
      const bucket = this.buckets.peek(key);
      if (bucket && !bucket.has(nowMs)) wait = Math.max(wait, bucket.msUntilToken(nowMs));
    }
    return wait;
  }

  /** Records a failed login. */
  failed(username: string, address: string | undefined, nowMs: number): void {
    for (const [key, burst] of this.keysOf(username, address)) {
      this.buckets.of(key, burst, nowMs).take(nowMs);
    }
  }

  private keysOf(username: string, address: string | undefined): [string, number][] {
    const keys: [string, number][] = [[`u:${username}`, this.options.userBurst]];
    if (address) keys.push([`a:${address}`, this.options.addressBurst]);
    return keys;
  }
}
