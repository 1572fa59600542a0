import type { StoredMessage } from '../model.js';

// The SearchStore port: full-text search over the messages a viewer may read.
//
// Contract (every backend; proven by search.contract.ts, and the general rules in index.ts):
// - searchMessages finds the messages whose searchable fields (search-text.ts) hold every
//   word (the last also as a prefix), within the viewer's window, not recalled and not hidden by
//   the viewer; an edited message by its new text. With a conversation, not_member for a user
//   with no row there; without one, across every conversation the viewer may read (former
//   memberships up to their leftSeq). Newest first: descending seq within a conversation, and
//   commit order across them. Paging with `next` returns every match once. The index may trail
//   the commits (SQLite indexes off the append path); a search first indexes what is pending,
//   up to a bound, so a message appended before it is found unless the index is far behind.

/** A message search for one viewer (docs/messages.md#search). */
export interface SearchQuery {
  readonly viewerId: string;
  /** From searchWords (search-text.ts): lowercased, each once. */
  readonly words: readonly string[];
  /** Only this conversation; absent: every conversation the viewer may read. */
  readonly conversationId?: string;
  /** A previous page's `next`: the page continues after it. */
  readonly before?: string;
  readonly limit: number;
}

export interface SearchPage {
  /** Newest first (see the contract). */
  readonly messages: StoredMessage[];
  /**
   * Where the next page starts (opaque, per backend), or null when there is none. A page may
   * hold fewer than `limit` messages and still have a next: a store bounds what one page scans.
   */
  readonly next: string | null;
}

export interface SearchStore {
  /** See the contract; invalid_cursor for a `before` this backend did not issue. */
  searchMessages(query: SearchQuery): Promise<SearchPage>;
}
