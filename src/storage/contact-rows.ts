import type { ContactEntry, ContactListKind, Edge, EdgeState } from '../contacts/index.js';
import type { Profile } from '../users/index.js';

// The rows of the contacts and profiles tables (migration 3) that both SQL backends share, and
// their mapping to the seams' types, written once.

export interface EdgeRow {
  user_id: string;
  peer_id: string;
  state: EdgeState;
  note: string | null;
  since_ms: number;
}

export interface EntryRow {
  other_id: string;
  username: string;
  note: string | null;
  since_ms: number;
}

export interface ProfileRow {
  id: string;
  username: string;
  display_name: string | null;
  bio: string | null;
  avatar: string | null;
  updated_at_ms: number | null;
}

export const toEdge = (row: EdgeRow): Edge => ({
  state: row.state,
  note: row.note,
  sinceMs: row.since_ms,
});

export const toEntry = (row: EntryRow): ContactEntry => ({
  userId: row.other_id,
  username: row.username,
  note: row.note,
  sinceMs: row.since_ms,
});

export const toProfile = (row: ProfileRow): Profile => ({
  userId: row.id,
  username: row.username,
  displayName: row.display_name,
  bio: row.bio,
  avatar: row.avatar,
  updatedAtMs: row.updated_at_ms,
});

/**
 * For each list kind: the edge state, and which column holds the list owner ("me") and which
 * the other user. Incoming requests are the other users' edges toward me.
 */
export const LIST_SHAPE: Record<
  ContactListKind,
  { state: EdgeState; me: 'user_id' | 'peer_id'; other: 'user_id' | 'peer_id' }
> = {
  contacts: { state: 'accepted', me: 'user_id', other: 'peer_id' },
  outgoing: { state: 'requested', me: 'user_id', other: 'peer_id' },
  blocked: { state: 'blocked', me: 'user_id', other: 'peer_id' },
  incoming: { state: 'requested', me: 'peer_id', other: 'user_id' },
};

/** SELECT of the profile columns: users joined with their (maybe missing) profile row. */
/** A profile read's filter: a deleted account has no profile (AuthStore.deleteAccount). */
export const LIVE = 'u.deleted_at_ms IS NULL';

export const PROFILE_SELECT = `SELECT u.id, u.username, p.display_name, p.bio, p.avatar, p.updated_at_ms
  FROM users u LEFT JOIN profiles p ON p.user_id = u.id`;
