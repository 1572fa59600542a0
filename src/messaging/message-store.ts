import type { ParleyError } from '../core/errors.js';

// The MessageStore seam: conversations, their members, and the per-conversation message log.
//
// Contract (every backend; proven by message-store.contract.ts):
// - append(batch) stores the whole batch in ONE transaction. Each message gets the next `seq` of
//   its conversation, allocated inside that transaction: seqs are dense (1, 2, 3, …) with no gap
//   and no repeat, whatever the concurrency, and follow the batch order within a conversation.
// - `atUs` (microseconds) is strictly increasing with seq inside a conversation, so paging by time
//   never skips or repeats a message.
// - (senderId, device, ref) is unique. Appending it again stores nothing and returns the original
//   message with `duplicate: true`, also when the twin is earlier in the same batch. The same ref
//   sent to another conversation is refused with `ref_reused`.
// - A sender that is not a member of the conversation is refused with `not_member`; an unknown
//   conversation with `conversation_not_found`. A refused item stores nothing and does not
//   consume a seq; the other items of the batch are unaffected.
// - When append resolves, every `ok` result is committed (durable against a process crash).
//   If it rejects, nothing of the batch was stored.
// - A stored message raises its sender's read and delivered watermarks to its seq: one's own
//   messages are never unread.
// - Every change a member must learn about in `changedSince` (a message, a watermark, a join)
//   is visible there: conversations whose lastAtUs or whose member row's updatedUs is after the
//   given time; for a current member also those with a message changed after it (edited,
//   recalled, a reaction added or removed) or hidden by the member after it, which
//   `changedMessages` then lists. A plain send is not a change.
// - Former members: a member who leaves or is removed keeps its row with `leftSeq` set to the seq
//   of the system message that recorded it. getMember, listMembers and listConversations see
//   current members only; getMembership sees both. append refuses a former member (not_member).
// - Reads for a viewer (`viewerId` on a page, getMessage's viewer): only seqs in the viewer's
//   window (see Member) come back: after joinedSeq when the group's history is 'join', and up
//   to leftSeq for a former member. A user with no row at all gets not_member.
// - changeGroup runs its planner and applies the plan (member rows, the conversation's settings,
//   and one system message with the next seq) in ONE transaction, under the same per-conversation
//   serialization as append: a refused change (the planner throws) stores nothing.
// - append also refuses, inside its transaction: a muted member (`muted`), a plain member while
//   the whole group is muted (`group_muted`), anyone once the group is dismissed
//   (`group_dismissed`).
// - Message actions (editMessage, react) run their judge on the state read inside the same
//   transaction that applies the change, under the conversation's serialization (as
//   changeGroup): a judge that throws stores nothing. `message` in that state is null when the
//   seq is outside the actor's read window (or there is no such message).
// - An edit replaces the body and sets editedAtUs; a recall after it wins, and an edit never
//   brings a recalled body back (the judge sees recalledAtUs). A recall also drops the message's
//   reactions.
// - Hidden messages (hideMessage) and reactions are per viewer: `marks` reports them for a seq
//   range; pages themselves are the same for every viewer.
// - Mentions of a user (or @all) are counted by `summaries` above the viewer's readSeq, within
//   its window, skipping recalled and hidden messages; an edit re-counts them.
// - searchMessages finds the messages whose searchable fields (message-search.ts) hold every
//   word (the last also as a prefix), within the viewer's window, not recalled and not hidden by
//   the viewer; an edited message by its new text. With a conversation, not_member for a user
//   with no row there; without one, across every conversation the viewer may read (former
//   memberships up to their leftSeq). Newest first: descending seq within a conversation, and
//   commit order across them. Paging with `next` returns every match once. The index may trail
//   the commits (SQLite indexes off the append path); a search first indexes what is pending,
//   up to a bound, so a message appended before it is found unless the index is far behind.
// - Reads return committed data only. Methods never return objects the store keeps using.

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

/** What the store read, under the conversation's lock, for a judge of one message action. */
export interface MessageActionState {
  readonly conversation: Conversation;
  /** The actor's row if it is a current member, else null. */
  readonly actor: Member | null;
  /** The message, or null when there is none at that seq within the actor's read window. */
  readonly message: StoredMessage | null;
  /** The emojis the actor already left on this message. */
  readonly actorReactions: readonly string[];
}

/** Judges a message action against the state; throws a ParleyError to refuse (nothing is stored). */
export type MessageJudge<T> = (state: MessageActionState) => T;

export interface ReactionChange {
  readonly conversationId: string;
  readonly seq: number;
  readonly userId: string;
  readonly emoji: string;
  /** True to add the reaction, false to remove it. */
  readonly add: boolean;
}

export interface ReactionResult {
  /** False when the reaction was already there (add) or already gone (remove). */
  readonly changed: boolean;
  /** How many users left this emoji on the message afterwards. */
  readonly count: number;
}

export interface AppendRequest {
  readonly conversationId: string;
  readonly senderId: string;
  readonly device: string;
  readonly ref: string;
  readonly body: MessageBody;
}

export type AppendResult =
  | { readonly ok: true; readonly message: StoredMessage; readonly duplicate: boolean }
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

/** A message search for one viewer (docs/messages.md#search). */
export interface SearchQuery {
  readonly viewerId: string;
  /** From searchWords (message-search.ts): lowercased, each once. */
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

export interface NewGroup {
  readonly title: string;
  readonly ownerId: string;
  /** Other members; the owner is added as owner whether or not listed here. */
  readonly memberIds: readonly string[];
  /** What members added later may read; 'join' when absent. */
  readonly history?: GroupHistory;
}

/** A managed change of a group (docs/groups.md); the rules live in the planner, not the store. */
export type GroupAction =
  | { readonly type: 'add'; readonly userIds: readonly string[] }
  | { readonly type: 'remove'; readonly userId: string }
  | { readonly type: 'leave' }
  | { readonly type: 'role'; readonly userId: string; readonly role: 'admin' | 'member' }
  | { readonly type: 'transfer'; readonly userId: string }
  | { readonly type: 'title'; readonly title: string }
  | { readonly type: 'mute'; readonly userId: string; readonly muted: boolean }
  | { readonly type: 'muteAll'; readonly muted: boolean }
  | { readonly type: 'history'; readonly history: GroupHistory }
  | { readonly type: 'avatar'; readonly avatar: string | null }
  | { readonly type: 'join'; readonly code: string }
  | { readonly type: 'dismiss' };

export interface GroupChange {
  readonly conversationId: string;
  readonly actorId: string;
  /** The actor's device: the system message is stored as sent from it. */
  readonly device: string;
  readonly action: GroupAction;
  /** Users whose rows the planner needs (the action's targets, the actor for a leave). */
  readonly targetIds: readonly string[];
}

/** What the store read, under the conversation's lock, for the planner to judge. */
export interface GroupState {
  readonly conversation: Conversation;
  /** The actor's row if it is a current member, else null. */
  readonly actor: Member | null;
  /** The rows (current or former) of targetIds; a user who never was a member is absent. */
  readonly targets: ReadonlyMap<string, Member>;
  /** How many current members the conversation has. */
  readonly memberCount: number;
  /** The group's invite code, or null; only a join compares against it. */
  readonly inviteCode: string | null;
}

/** What to write, in the transaction that appends `body` as the next system message. */
export interface GroupPlan {
  readonly body: MessageBody;
  /** New or returning members: role member, not muted, joinedSeq = the message's seq - 1. */
  readonly join?: readonly string[];
  /** Members whose membership ends: leftSeq = the message's seq. */
  readonly leave?: readonly string[];
  readonly roles?: readonly { readonly userId: string; readonly role: MemberRole }[];
  readonly mute?: readonly { readonly userId: string; readonly muted: boolean }[];
  readonly title?: string;
  readonly mutedAll?: boolean;
  readonly history?: GroupHistory;
  /** A new avatar; null clears it; absent leaves it. */
  readonly avatar?: string | null;
  readonly dismiss?: boolean;
}

/** Judges a change against the state; throws a ParleyError to refuse it (nothing is stored). */
export type GroupPlanner = (state: GroupState) => GroupPlan;

export interface GroupChangeResult {
  /** The conversation after the change. */
  readonly conversation: Conversation;
  /** The system message that records it. */
  readonly message: StoredMessage;
  readonly plan: GroupPlan;
}

export interface MessageStore {
  /** The direct conversation of two distinct users, created on first use. Idempotent. */
  openDirect(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }>;
  findDirect(userA: string, userB: string): Promise<Conversation | null>;
  createGroup(group: NewGroup): Promise<Conversation>;
  /** Creates the named room if missing and makes the user a member if not already. Idempotent. */
  joinRoom(name: string, userId: string): Promise<{ conversation: Conversation; created: boolean }>;
  /**
   * Ends a current member's membership of a room, silently (rooms record no system message for
   * joins and leaves): leftSeq is the room's lastSeq, under the same serialization as append.
   * True when it was a current member, false when it had already left; not_member for a user
   * that never was one. joinRoom makes a former member current again (joinedSeq = lastSeq).
   */
  leaveRoom(conversationId: string, userId: string): Promise<boolean>;
  findRoom(name: string): Promise<Conversation | null>;
  getConversation(id: string): Promise<Conversation | null>;
  /** A current member's row, else null. */
  getMember(conversationId: string, userId: string): Promise<Member | null>;
  /** The user's row, current or former (leftSeq set), else null. */
  getMembership(conversationId: string, userId: string): Promise<Member | null>;
  /** Current members only. */
  listMembers(conversationId: string): Promise<Member[]>;
  /** The user's conversations, most recently active first. */
  listConversations(userId: string): Promise<ConversationView[]>;
  /** The users who share a direct conversation with this user: whose presence they see. */
  directPeers(userId: string): Promise<string[]>;
  /**
   * The users who share a conversation with this user, both of them current members (not left),
   * dismissed groups left out; each once, without the user: who sees its profile.
   */
  sharedWith(userId: string): Promise<string[]>;
  /**
   * The user's conversations with a message, watermark change or join after `sinceUs`; for a
   * former member, only when its own row changed (its leaving), with lastSeq capped at leftSeq.
   */
  changedSince(userId: string, sinceUs: number): Promise<ConversationView[]>;
  /**
   * The messages of the viewer's window that changed after `sinceUs` (edited, recalled, a
   * reaction added or removed) or that the viewer hid after it, as they are now, in seq order:
   * at most `limit`, the lowest seqs first, with hasMore when there are others; with `bytesMax`,
   * cut as PAGE_BYTES says. not_member for a user with no row.
   */
  changedMessages(
    conversationId: string,
    viewerId: string,
    sinceUs: number,
    limit: number,
    bytesMax?: number,
  ): Promise<Page>;

  append(batch: readonly AppendRequest[]): Promise<AppendResult[]>;
  pageBySeq(conversationId: string, page: SeqPage): Promise<Page>;
  pageByTime(conversationId: string, page: TimePage): Promise<Page>;
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
  /** See the contract; invalid_cursor for a `before` this backend did not issue. */
  searchMessages(query: SearchQuery): Promise<SearchPage>;
  /** With a viewer, null also when the message is outside the viewer's window. */
  getMessage(conversationId: string, seq: number, viewerId?: string): Promise<StoredMessage | null>;
  /** See the contract: one transaction for the judgement, the member rows and the system message. */
  changeGroup(change: GroupChange, planner: GroupPlanner): Promise<GroupChangeResult>;
  /**
   * Removes a message's body for good (it becomes `{kind: "recalled"}`); the seq stays. Returns
   * the message as it is now; recalling twice is harmless. Null if there is no such message.
   */
  recall(conversationId: string, seq: number): Promise<StoredMessage | null>;

  /**
   * Replaces a message's body with what the judge returns, and stamps editedAtUs, in one
   * transaction with the judgement. conversation_not_found for an unknown conversation.
   */
  editMessage(
    conversationId: string,
    seq: number,
    actorId: string,
    judge: MessageJudge<MessageBody>,
  ): Promise<StoredMessage>;
  /** Adds or removes one reaction after the judge approves, in one transaction with it. */
  react(change: ReactionChange, judge: MessageJudge<void>): Promise<ReactionResult>;
  /** Hides a message for one user; true when it was not hidden before. The caller checks access. */
  hideMessage(conversationId: string, seq: number, userId: string): Promise<boolean>;
  /** The viewer's marks (hidden, reactions) on the seqs from `fromSeq` to `toSeq`, inclusive. */
  marks(
    conversationId: string,
    viewerId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<MessageMarks>;
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
   * Sets (a string) or revokes (null) a group's invite code after `judge` approves the actor,
   * in one transaction. Codes are unique across conversations.
   */
  setInvite(
    conversationId: string,
    actorId: string,
    code: string | null,
    judge: (conversation: Conversation, actor: Member | null, current: string | null) => void,
  ): Promise<void>;
  /** The group's current invite code, or null. */
  getInvite(conversationId: string): Promise<string | null>;
  /** The conversation whose current invite code this is, or null. */
  findByInvite(code: string): Promise<Conversation | null>;

  /**
   * Moves a member's read watermark forward (never back), capped at the conversation's lastSeq.
   * Reading also implies delivery, so deliveredSeq is raised to at least readSeq.
   * Returns the member after the change; not_member if the user is not a member.
   */
  markRead(conversationId: string, userId: string, seq: number): Promise<Member>;
  /** As markRead, for the delivered watermark. */
  markDelivered(conversationId: string, userId: string, seq: number): Promise<Member>;

  close(): Promise<void>;
}
