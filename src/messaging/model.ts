// The messaging model: the values every store port and service passes around. Types only.

export type ConversationKind = 'direct' | 'group' | 'room';
export type MemberRole = 'owner' | 'admin' | 'member';
/** What a group's new members may read: from their join (default) or the whole history. */
export type GroupHistory = 'join' | 'full';

export interface Conversation {
  readonly id: string;
  readonly kind: ConversationKind;
  /** The room name for rooms (unique among rooms); null for direct and group conversations. */
  readonly name: string | null;
  readonly title: string | null;
  readonly createdAtMs: number;
  readonly lastSeq: number;
  readonly lastAtUs: number;
  /** Groups: what new members may read. Direct chats and rooms are always 'full'. */
  readonly history: GroupHistory;
  /** Groups: only owner and admins may send. */
  readonly mutedAll: boolean;
  /** Groups: when the owner dismissed it (no more sends or changes), else null. */
  readonly dismissedAtMs: number | null;
  /** Groups: the avatar's attachment id, else null. */
  readonly avatar: string | null;
}

export interface Member {
  readonly conversationId: string;
  readonly userId: string;
  readonly role: MemberRole;
  /** lastSeq of the conversation when the member joined. */
  readonly joinedSeq: number;
  readonly deliveredSeq: number;
  readonly readSeq: number;
  /** When this member row last changed (join, watermark, leave), in microseconds. */
  readonly updatedUs: number;
  /** Muted by an admin: may read but not send. */
  readonly muted: boolean;
  /**
   * Null for a current member. For a former member, the seq of the system message that recorded
   * its leaving: it may read up to and including that seq, never later ones.
   */
  readonly leftSeq: number | null;
}

/** A conversation as one member sees it in their list. */
export interface ConversationView extends Conversation {
  readonly role: MemberRole;
  readonly joinedSeq: number;
  readonly deliveredSeq: number;
  readonly readSeq: number;
  /** Set when the viewer is a former member: lastSeq is then capped at it. */
  readonly leftSeq: number | null;
  /** The viewer pinned it: it comes first in their list. */
  readonly pinned: boolean;
  /** The viewer muted its notifications (messages are still delivered). */
  readonly notificationsMuted: boolean;
}

/** What a conversation list shows beside a view: computed for the viewer. */
export interface ConversationSummary {
  /** The newest message in the viewer's window that the viewer did not hide, or null. */
  readonly last: StoredMessage | null;
  /** Messages above the viewer's readSeq that mention it or @all (not recalled, not hidden). */
  readonly mentions: number;
}

/** The viewer's own settings of a conversation; an absent field stays as it is. */
export interface PreferencesChange {
  readonly pinned?: boolean;
  readonly notificationsMuted?: boolean;
}

/** A message body is a JSON object whose `kind` names it; `text` carries the text of text messages. */
export interface MessageBody {
  readonly kind: string;
  readonly text?: string;
  readonly [key: string]: unknown;
}

export interface StoredMessage {
  readonly id: string;
  readonly conversationId: string;
  readonly seq: number;
  readonly senderId: string;
  readonly device: string;
  readonly body: MessageBody;
  readonly atUs: number;
  /** When the message was recalled (its body is then `{kind: "recalled"}`), else null. */
  readonly recalledAtUs: number | null;
  /** When the body was last edited; absent if it never was. */
  readonly editedAtUs?: number;
}

/** One emoji's reactions on a message, as one viewer sees them. */
export interface ReactionCount {
  readonly emoji: string;
  readonly count: number;
  /** The viewer is among them. */
  readonly me: boolean;
}

/** A viewer's own marks on a range of messages: what it hid, and the reactions. */
export interface MessageMarks {
  readonly hidden: ReadonlySet<number>;
  /** Seq → its reactions, in the order each emoji was first used; seqs without any are absent. */
  readonly reactions: ReadonlyMap<number, readonly ReactionCount[]>;
}

// PAGE_BYTES: with `bytesMax`, a page also stops before the first message whose body (its stored
// JSON, counted in UTF-16 units as Node holds it) would take the page's bodies past `bytesMax`,
// and says `hasMore`. The
// first message is always returned, so paging always advances. The backend must not load the rows
// it leaves out: this is what bounds the memory one read can make the server hold.

export interface Page {
  /** Ascending seq for SeqPage; in the asked order for TimePage. */
  readonly messages: StoredMessage[];
  /** True when more messages lie beyond this page in the paging direction. */
  readonly hasMore: boolean;
  /** With `bytesMax`: what the page's bodies count against it (PAGE_BYTES). */
  readonly bodyChars?: number;
}

/** Who is acting: the authenticated user and the device the request came from. */
export interface Caller {
  readonly userId: string;
  readonly device: string;
}

export interface SendOutcome {
  readonly message: StoredMessage;
  readonly duplicate: boolean;
}

/** A message as one viewer reads it: its reactions, and whether the viewer hid it. */
export interface ViewedMessage extends StoredMessage {
  /** Absent when there are none (and on hidden messages). */
  readonly reactions?: readonly ReactionCount[];
  /** The viewer hid it: the body is then `{kind: "hidden"}`. */
  readonly hidden?: true;
}

/** A conversation in its member's list: the view, its last message preview and mentions. */
export interface ConversationListItem extends ConversationView, ConversationSummary {}

/**
 * A conversation in a sync reply. With a cursor, also the messages a device may already hold
 * that changed since it (edited, recalled, reactions, hidden by the user), as they are now.
 */
export interface SyncedConversation extends ConversationListItem {
  readonly changed?: readonly ViewedMessage[];
  /** More changed than `changed` holds (SYNC_CHANGES_MAX): the device re-reads what it holds. */
  readonly changedMore?: true;
}

export interface SyncResult {
  readonly conversations: SyncedConversation[];
  readonly cursor: string;
}

/**
 * Asked before a message naming an attachment is stored: resolves when the sender may use it in
 * the conversation (and records that use, so members may download it), rejects with a coded
 * error when not. Without it, attachment kinds are refused.
 */
export type AttachmentUse = (
  attachmentId: string,
  conversationId: string,
  senderId: string,
) => Promise<void>;
