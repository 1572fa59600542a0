import type { ParleyError } from '../../core/errors.js';
import type { MessageBody, Page, StoredMessage } from '../model.js';

// The MessageLog port: each conversation's append-only log of messages, numbered by seq.
//
// Contract (every backend; proven by message-log.contract.ts, and the general rules in index.ts):
// - append(batch) stores the whole batch in ONE transaction. Each message gets the next `seq` of
//   its conversation, allocated inside that transaction: seqs are dense (1, 2, 3, …) with no gap
//   and no repeat, whatever the concurrency, and follow the batch order within a conversation.
// - `atUs` (microseconds) is strictly increasing with seq inside a conversation, so paging by time
//   never skips or repeats a message. One function stamps both (storage/rows.ts, nextMessage),
//   for sends and for the system messages of GroupStore alike.
// - (senderId, device, ref) is unique. Appending it again stores nothing and returns the original
//   message with `duplicate: true`, also when the twin is earlier in the same batch. The same ref
//   sent to another conversation is refused with `ref_reused`.
// - A sender that is not a member of the conversation is refused with `not_member`; an unknown
//   conversation with `conversation_not_found`. A refused item stores nothing and does not
//   consume a seq; the other items of the batch are unaffected.
// - append also refuses, inside its transaction: a muted member (`muted`), a plain member while
//   the whole group is muted (`group_muted`), anyone once the group is dismissed
//   (`group_dismissed`). A former member is refused (not_member).
// - When append resolves, every `ok` result is committed (durable against a process crash).
//   If it rejects, nothing of the batch was stored.
// - A stored message raises its sender's read and delivered watermarks to its seq: one's own
//   messages are never unread.
// - Pages for a viewer keep to its window (index.ts); with `bytesMax`, they are cut as
//   PAGE_BYTES (model.ts) says.

export interface AppendRequest {
  readonly conversationId: string;
  readonly senderId: string;
  readonly device: string;
  readonly ref: string;
  readonly body: MessageBody;
}

export type AppendResult =
  | {
      readonly ok: true;
      readonly message: StoredMessage;
      readonly duplicate: boolean;
      /** A new message's predecessor's stamp (0 before the first); see messageStored. */
      readonly previousAtUs?: number;
    }
  | { readonly ok: false; readonly error: ParleyError };

/** Paging by seq. Both bounds are exclusive. Messages come back in ascending seq order. */
export interface SeqPage {
  /** Return messages with seq > after, oldest first (forward paging). */
  readonly after?: number;
  /** Return the newest messages with seq < before (backward paging). */
  readonly before?: number;
  readonly limit: number;
  /** Only what this user may read (see the contract); absent: every message. */
  readonly viewerId?: string;
  /** See PAGE_BYTES below; absent: no bound but `limit`. */
  readonly bytesMax?: number;
}

/** Paging by time, as the seed API does it. The cursor is exclusive; 0 means "from the end". */
export interface TimePage {
  readonly cursorUs: number;
  readonly newestFirst: boolean;
  readonly limit: number;
  /** Only what this user may read (see the contract); absent: every message. */
  readonly viewerId?: string;
  /** See PAGE_BYTES below; absent: no bound but `limit`. */
  readonly bytesMax?: number;
}

export interface MessageLog {
  append(batch: readonly AppendRequest[]): Promise<AppendResult[]>;
  pageBySeq(conversationId: string, page: SeqPage): Promise<Page>;
  pageByTime(conversationId: string, page: TimePage): Promise<Page>;
  /** With a viewer, null also when the message is outside the viewer's window. */
  getMessage(conversationId: string, seq: number, viewerId?: string): Promise<StoredMessage | null>;
  /**
   * The messages a user sent (any conversation; recalled ones as they are now), a page at a
   * time in (device, ref) order, after `after` (a previous page's last message): for a data
   * export. It reads the (sender, device, ref) index, so it costs no scan of other users'.
   */
  sentBy(
    userId: string,
    after: { readonly device: string; readonly ref: string } | null,
    limit: number,
  ): Promise<(StoredMessage & { readonly ref: string })[]>;
  /**
   * Removes a message's body for good (it becomes `{kind: "recalled"}`); the seq stays. Returns
   * the message as it is now; recalling twice is harmless. Null if there is no such message.
   * A recall also drops the message's reactions.
   */
  recall(conversationId: string, seq: number): Promise<StoredMessage | null>;
}
