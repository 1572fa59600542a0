// The ContactStore seam: who is whose contact, pending requests, and blocks.
//
// The relation of two users is two directed edges, one per side, each absent or one of:
// - `requested`: this side asked the other to be contacts (with an optional note);
// - `accepted`:  contacts; always set on both sides together;
// - `blocked`:   this side blocked the other. Either side may block, so both edges may be
//   `blocked` at once.
// The rules (who may move the pair from what to what) live once above the seam, in
// ContactsService; a backend only reads and compare-and-sets pairs.
//
// Contract (every backend; proven by contact-store.contract.ts):
// - pair(a, b) reads both edges in one consistent snapshot.
// - setPair(a, b, expected, next) is atomic per unordered pair: it writes `next` only if the
//   edges' states are still exactly `expected` (absent = null) and reports whether it wrote.
//   Concurrent setPair calls on one pair serialize: of two racing with the same `expected`,
//   exactly one wins. A null edge in `next` deletes it. Nothing else changes.
// - directBar(a, b) says what bars a direct message between the two: 'blocked' when either side
//   has blocked the other, else 'deleted' when either account was deleted
//   (UserStore.deleteAccount), else null; primary-key reads only.
// - barredAmong(userId, others) answers directBar for many pairs at once: the users among
//   `others` whose pair with `userId` directBar would bar (all of them when `userId` itself was
//   deleted), in any order, each once; a fixed number of queries whatever the count.
// - list(userId, kind, page) returns, ordered by the other user's username (exclusive `after`),
//   at most `limit` entries: `contacts` (accepted), `incoming` (they requested me), `outgoing`
//   (I requested them) or `blocked` (I blocked them). Users who no longer exist never appear.
// - Reads return committed data only. Deleting a user deletes its edges.

export type EdgeState = 'requested' | 'accepted' | 'blocked';

export interface Edge {
  readonly state: EdgeState;
  /** The request's note (only `requested` edges carry one), else null. */
  readonly note: string | null;
  /** When the edge took this state, epoch milliseconds. */
  readonly sinceMs: number;
}

/** Both edges of a pair: `ab` is a's edge toward b, `ba` is b's toward a. */
export interface Pair {
  readonly ab: Edge | null;
  readonly ba: Edge | null;
}

export interface PairStates {
  readonly ab: EdgeState | null;
  readonly ba: EdgeState | null;
}

export type ContactListKind = 'contacts' | 'incoming' | 'outgoing' | 'blocked';

export interface ContactEntry {
  /** The other user. */
  readonly userId: string;
  readonly username: string;
  /** The note of a pending request (incoming or outgoing lists), else null. */
  readonly note: string | null;
  readonly sinceMs: number;
}

export interface ContactPage {
  /** Exclusive: entries whose username sorts after this one. */
  readonly after?: string;
  readonly limit: number;
}

/** What bars a direct message between two users (ContactStore.directBar). */
export type DirectBar = 'blocked' | 'deleted' | null;

export interface ContactStore {
  pair(a: string, b: string): Promise<Pair>;
  /** Writes `next` if the pair's states are still `expected`; false (and no write) if not. */
  setPair(a: string, b: string, expected: PairStates, next: Pair): Promise<boolean>;
  directBar(a: string, b: string): Promise<DirectBar>;
  barredAmong(userId: string, others: readonly string[]): Promise<string[]>;
  list(userId: string, kind: ContactListKind, page: ContactPage): Promise<ContactEntry[]>;
  close(): Promise<void>;
}
