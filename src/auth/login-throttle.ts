import type { BudgetStore } from '../core/budget-store.js';

// Slows down password guessing. Every failed login takes a token from two buckets: the
// username's and the client address's. While either is empty, logins for that username or from
// that address are refused with `rate_limited` before any password is checked (so a flood also
// costs no argon2 time). Successful logins take nothing. The buckets are in a BudgetStore:
// Redis's on a cluster, so that N nodes allow no more guesses than one (docs/decisions.md).

export interface LoginThrottleOptions {
  /** Failed logins a username may have in a burst. */
  readonly userBurst: number;
  /** Failed logins an address may have in a burst (several users share a NAT). */
  readonly addressBurst: number;
  /** How fast a bucket refills: one failure forgiven every this many ms. */
  readonly refillMs: number;
}

export class LoginThrottle {
  private readonly options: LoginThrottleOptions;
  private readonly store: BudgetStore;

  constructor(store: BudgetStore, options: LoginThrottleOptions) {
    this.store = store;
    this.options = options;
  }

  /** Milliseconds until a login for this username from this address may be tried; 0: now. */
  async waitMs(username: string, address: string | undefined, nowMs: number): Promise<number> {
    const waits = await Promise.all(
      this.keysOf(username, address).map(([key, burst]) =>
        this.store.wait(key, burst, this.options.refillMs, nowMs),
      ),
    );
    return Math.max(0, ...waits);
  }

  /** Records a failed login. */
  async failed(username: string, address: string | undefined, nowMs: number): Promise<void> {
    await Promise.all(
      this.keysOf(username, address).map(([key, burst]) =>
        this.store.take(key, burst, this.options.refillMs, nowMs),
      ),
    );
  }

  private keysOf(username: string, address: string | undefined): [string, number][] {
    const keys: [string, number][] = [[`login:u:${username}`, this.options.userBurst]];
    if (address) keys.push([`login:a:${address}`, this.options.addressBurst]);
    return keys;
  }
}
