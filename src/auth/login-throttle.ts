import type { BudgetStore } from '../core/budget-store.js';

// Slows down password guessing without letting anyone lock an owner out. Every failed login
// takes a token from the buckets of its source, and a login whose source has an empty bucket is
// refused with `rate_limited` before any password is checked (so a flood costs no argon2 time):
//
// - (username, address): one guesser at one address gets a burst of tries at one account.
// - address: one address gets a burst of tries at all accounts together (several users may
//   share a NAT, so it is larger).
// - username: every failure for the account, from anywhere. Only UNKNOWN sources wait for it; an
//   address or a device that logged in to the account before (login-sources.ts) never does, so
//   failures from elsewhere cannot stop its owner. It is what slows a guesser who spreads over
//   many addresses.
// - A client that proves a device of the account (its device key) is throttled by that device's
//   bucket alone: guessers at the owner's address (a shared NAT) cannot stop it either, and a
//   stolen key still buys only a burst.
//
// Successful logins take nothing. The buckets are in a BudgetStore: Redis's on a cluster, so that
// N nodes allow no more guesses than one (docs/decisions.md).

export interface LoginThrottleOptions {
  /** Failed logins of one username from one address, or with one device key, in a burst. */
  readonly sourceBurst: number;
  /** Failed logins from one address in a burst, whatever the usernames. */
  readonly addressBurst: number;
  /** Failed logins of one username in a burst before unknown sources must wait. */
  readonly userBurst: number;
  /** How fast a bucket refills: one failure forgiven every this many ms. */
  readonly refillMs: number;
}

/** Who tries to log in. */
export interface LoginAttempt {
  /** Case-folded and valid (names.ts): keys cannot collide through it. */
  readonly username: string;
  /** The client's address as addressKey() names it, when known. */
  readonly address: string | undefined;
  /** The device, when the client proved it with the account's device key for it. */
  readonly provenDevice?: string | undefined;
}

type Bucket = readonly [key: string, burst: number];

export class LoginThrottle {
  private readonly options: LoginThrottleOptions;
  private readonly store: BudgetStore;

  constructor(store: BudgetStore, options: LoginThrottleOptions) {
    this.store = store;
    this.options = options;
  }

  /**
   * Milliseconds until this attempt may be tried; 0: now. `isKnownAddress` is asked only when
   * the username's budget is spent, so that the lookup costs nothing while nobody attacks.
   */
  async waitMs(
    attempt: LoginAttempt,
    nowMs: number,
    isKnownAddress: () => Promise<boolean>,
  ): Promise<number> {
    const user = this.userBucket(attempt);
    const [userWait = 0, ...sourceWaits] = await Promise.all(
      [user, ...this.sourceBuckets(attempt)].map((bucket) =>
        bucket ? this.wait(bucket, nowMs) : Promise.resolve(0),
      ),
    );
    const sourceWait = Math.max(0, ...sourceWaits);
    if (sourceWait > 0 || userWait === 0) return sourceWait;
    return (await isKnownAddress()) ? 0 : userWait;
  }

  /** Records a failed login. */
  async failed(attempt: LoginAttempt, nowMs: number): Promise<void> {
    const user = this.userBucket(attempt);
    const buckets = user ? [user, ...this.sourceBuckets(attempt)] : this.sourceBuckets(attempt);
    await Promise.all(
      buckets.map(([key, burst]) => this.store.take(key, burst, this.options.refillMs, nowMs)),
    );
  }

  private wait([key, burst]: Bucket, nowMs: number): Promise<number> {
    return this.store.wait(key, burst, this.options.refillMs, nowMs);
  }

  /** The username's bucket; a proven device does not answer to it. */
  private userBucket(attempt: LoginAttempt): Bucket | null {
    if (attempt.provenDevice !== undefined) return null;
    return [`login:u:${attempt.username}`, this.options.userBurst];
  }

  /**
   * The buckets of the attempt's source. Keys put the part a client cannot shape (an address, a
   * checked device id; neither holds "|") before the username, so no two sources share a key.
   */
  private sourceBuckets({ username, address, provenDevice }: LoginAttempt): Bucket[] {
    const { sourceBurst, addressBurst } = this.options;
    if (provenDevice !== undefined) return [[`login:d:${provenDevice}|${username}`, sourceBurst]];
    if (address === undefined) return [];
    return [
      [`login:ua:${address}|${username}`, sourceBurst],
      [`login:a:${address}`, addressBurst],
    ];
  }
}
