import type { ConversationSummary, ConversationView, Page, PreferencesChange } from '../model.js';

// The InboxStore port: one member's view of its conversations: the list, what each shows (last
// message, mentions), its own settings, and what changed since a time, for sync.
//
// Contract (every backend; proven by inbox.contract.ts, and the general rules in index.ts):
// - Every change a member must learn about in `changedSince` (a message, a watermark, a join)
//   is visible there: conversations whose lastAtUs or whose member row's updatedUs is after the
//   given time; for a current member also those with a message changed after it (edited,
//   recalled, a reaction added or removed) or hidden by the member after it, which
//   `changedMessages` then lists. A plain send is not a change.
// - Mentions of a user (or @all) are counted by `summaries` above the viewer's readSeq, within
//   its window, skipping recalled and hidden messages; an edit re-counts them.

export interface InboxStore {
  /** The user's conversations, most recently active first. */
  listConversations(userId: string): Promise<ConversationView[]>;
  /** Last message and mentions count of each view, as its viewer sees them; keyed by id. */
  summaries(
    userId: string,
    views: readonly ConversationView[],
  ): Promise<Map<string, ConversationSummary>>;
  /**
   * Sets a current member's own preferences (bumping its updatedUs, so sync reports it) and
   * returns its view. not_member for anyone else; too_many_pins past `pinsMax` pinned.
   */
  setPreferences(
    conversationId: string,
    userId: string,
    change: PreferencesChange,
    pinsMax: number,
  ): Promise<ConversationView>;
  /**
   * The user's conversations with a message, watermark change or join after `sinceUs`; for a
   * former member, only when its own row changed (its leaving), with lastSeq capped at leftSeq.
   */
  changedSince(userId: string, sinceUs: number): Promise<ConversationView[]>;
  /**
   * The messages of the viewer's window that changed after `sinceUs` (edited, recalled, a
   * reaction added or removed) or that the viewer hid after it, as they are now, in seq order:
   * at most `limit`, the lowest seqs first, with hasMore when there are others; with `bytesMax`,
   * cut as PAGE_BYTES (model.ts) says. not_member for a user with no row.
   */
  changedMessages(
    conversationId: string,
    viewerId: string,
    sinceUs: number,
    limit: number,
    bytesMax?: number,
  ): Promise<Page>;
}
