// The SessionEnds seam: a short log of ended sessions, which every node reads to close the live
// links that still use them (auth/session-watch.ts).
//
// Contract:
// - Every way a session row ends is logged, whichever process ends it: deleted (logout, revoke,
//   expiry, password change, disable, account deletion, cascades) or replaced by a new login of
//   the same device. The database does it (a trigger on `sessions`), so a store method, an admin
//   CLI in another process or a hand-written DELETE cannot forget to.
// - `endedWithin(ms)` returns the token hashes (never tokens) of sessions ended in the last `ms`
//   milliseconds by the database's clock, each at least once, in any order. A reader that asks
//   for a window longer than its polling interval (plus the longest session-ending transaction)
//   misses none, although ids are not handed out in commit order; an entry seen twice is
//   harmless, since closing a closed link does nothing.
// - `prune(olderThanMs)` forgets entries older than that.

export interface SessionEnds {
  endedWithin(ms: number): Promise<string[]>;
  prune(olderThanMs: number): Promise<void>;
}
