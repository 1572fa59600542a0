// The Presence seam: which devices are connected to which node.
//
// Contract (every backend; proven by presence.contract.ts):
// - add records (user, device, node) for `ttlMs`; refresh re-arms that expiry, and re-adds an
//   entry that expired or was lost (a restarted Redis); remove deletes it.
//   An entry that is not refreshed in time disappears by itself, so a node that dies leaves no
//   user online for longer than the TTL.
// - The same (user, device) on two nodes are two entries: both are listed until removed or
//   expired (the kick that follows a second login removes the old one).
// - locate returns, for each asked user that has live entries, those entries; users without any
//   are absent from the map. It never returns an expired entry.
// - Operations are idempotent; none throws for an unknown entry.
// - While the backend is unreachable, add, remove and refresh still resolve (the next refresh
//   heals what they missed); locate rejects with a temporary error, because "cannot tell" is not
//   "nobody is online".

export interface PresenceEntry {
  readonly user: string;
  readonly device: string;
  readonly node: string;
}

export interface Presence {
  add(entry: PresenceEntry): Promise<void>;
  remove(entry: PresenceEntry): Promise<void>;
  refresh(entries: readonly PresenceEntry[]): Promise<void>;
  locate(userIds: readonly string[]): Promise<Map<string, PresenceEntry[]>>;
  close(): Promise<void>;
}
