import type { Budget, BudgetStore } from '../core/budget-store.js';

// Slows down password guessing without letting anyone lock an owner out. Every login attempt
// takes a token from each bucket of its source BEFORE its password is checked, and gives the
// tokens back if the password was right; an attempt that finds an empty bucket is refused with
// `rate_limited` and takes nothing (so a flood costs no argon2 time, and a refusal drains no other
// bucket). Taking first is what holds against parallel guesses: peeking first and counting the
// failure afterwards let every request of a burst sent at once through the peek.
//
// - (username, address): one guesser at one address gets a burst of tries at one account.
// - address: one address gets a burst of tries at all accounts together (several users may
//   share a NAT, so it is larger).
// - username: every attempt at the account, from anywhere. Only UNKNOWN sources wait for it; an
//   address or a device that logged in to the account before (login-sources.ts) never does, so
//   failures from elsewhere cannot stop its owner. It is what slows a guesser who spreads over
//   many addresses.
// - A client that proves a device of the account (its device key) is throttled by that device's
//   bucket alone: guessers at the owner's address (a shared NAT) cannot stop it either, and a
//   stolen key still buys only a burst.
//
// So only failures keep their tokens; attempts still being checked hold theirs meanwhile. The
// buckets are in a BudgetStore: Redis's on a cluster, so that N nodes allow no more guesses than
// one (docs/decisions/0024-budgets-shared-on-a-cluster.md).

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

/** What reserve() answered: the tokens the attempt holds, or how long it must wait. */
export interface Reservation {
  /** 0: the attempt may go on, holding `held`; else the ms until it may be tried, holding none. */
  readonly waitMs: number;
  readonly held: readonly Budget[];
}

export class LoginThrottle {
  private readonly options: LoginThrottleOptions;
  private readonly store: BudgetStore;

  constructor(store: BudgetStore, options: LoginThrottleOptions) {
    this.store = store;
    this.options = options;
  }

  /**
   * Takes the attempt's tokens, all or none, before its password is checked: a failure keeps
   * them, succeeded() gives them back. `isKnownAddress` is asked only when the username's budget
   * is spent and the source's are not, so that the lookup costs nothing while nobody attacks.
   */
  async reserve(
    attempt: LoginAttempt,
    nowMs: number,
    isKnownAddress: () => Promise<boolean>,
  ): Promise<Reservation> {
    const sources = this.sourceBuckets(attempt);
    const user = this.userBucket(attempt);
    const all = user ? [...sources, user] : sources;
    const waits = await this.store.takeAll(all, nowMs);
    const sourceWait = Math.max(0, ...waits.slice(0, sources.length));
    const userWait = waits[sources.length] ?? 0;
    if (sourceWait > 0) return { waitMs: sourceWait, held: [] };
    if (userWait === 0) return { waitMs: 0, held: all };
    if (!(await isKnownAddress())) return { waitMs: userWait, held: [] };
    // A known source: the username's bucket is not its to wait for, nor to pay.
    const again = await this.store.takeAll(sources, nowMs);
    const wait = Math.max(0, ...again);
    return wait > 0 ? { waitMs: wait, held: [] } : { waitMs: 0, held: sources };
  }

  /** The password was right: the attempt's tokens go back, so a login costs its owner nothing. */
  async succeeded(reservation: Reservation, nowMs: number): Promise<void> {
    await this.store.giveBack(reservation.held, nowMs);
  }

  /** The username's bucket; a proven device does not answer to it. */
  private userBucket(attempt: LoginAttempt): Budget | null {
    if (attempt.provenDevice !== undefined) return null;
    return this.budget(`login:u:${attempt.username}`, this.options.userBurst);
  }

  /**
   * The buckets of the attempt's source. Keys put the part a client cannot shape (an address, a
   * checked device id; neither holds "|") before the username, so no two sources share a key.
   */
  private sourceBuckets({ username, address, provenDevice }: LoginAttempt): Budget[] {
    const { sourceBurst, addressBurst } = this.options;
    if (provenDevice !== undefined) {
      return [this.budget(`login:d:${provenDevice}|${username}`, sourceBurst)];
    }
    if (address === undefined) return [];
    return [
      this.budget(`login:ua:${address}|${username}`, sourceBurst),
      this.budget(`login:a:${address}`, addressBurst),
    ];
  }

  /** Every login bucket is in the group "login" (budget-store.ts), so one takeAll() holds them. */
  private budget(key: string, burst: number): Budget {
    return { key, burst, refillMs: this.options.refillMs };
  }
}
