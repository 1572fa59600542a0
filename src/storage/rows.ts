import type { ErrorCode } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Attachment } from '../attachments/index.js';
import type { DeviceSession, Session, User, UserWithSecret } from '../auth/index.js';
import type { Pusher } from '../push/index.js';
import type {
  Conversation,
  ConversationKind,
  ConversationView,
  GroupHistory,
  Member,
  MemberRole,
  MessageBody,
  ReactionCount,
  StoredMessage,
} from '../messaging/store/index.js';

// The table rows both SQL backends share (one schema, two dialects) and their mapping to the
// seams' types, written once.

export interface UserRow {
  id: string;
  username: string;
  password_hash: string | null;
  /** Set by `parley user disable` (migration 7). */
  disabled_at_ms?: number | null;
  created_at_ms: number;
}

export interface ConversationRow {
  id: string;
  kind: ConversationKind;
  name: string | null;
  title: string | null;
  created_at_ms: number;
  last_seq: number;
  last_at_us: number;
  history: GroupHistory;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  muted_all: number | boolean;
  dismissed_at_ms: number | null;
  avatar: string | null;
  invite_code: string | null;
}

export interface MemberRow {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  joined_seq: number;
  delivered_seq: number;
  read_seq: number;
  updated_us: number;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  muted: number | boolean;
  left_seq: number | null;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  pinned: number | boolean;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  notifications_muted: number | boolean;
}

export interface MessageRow {
  conversation_id: string;
  seq: number;
  id: string;
  sender_id: string;
  device: string;
  /** JSON text (SQLite), or already parsed (a PostgreSQL json column). */
  body: string | MessageBody;
  at_us: number;
  recalled_at_us: number | null;
  edited_at_us: number | null;
}

export type ViewRow = ConversationRow & MemberRow;

/** The member columns a conversation view adds to `c.*`. */
export const VIEW_MEMBER_COLUMNS =
  'm.role, m.joined_seq, m.delivered_seq, m.read_seq, m.updated_us, m.left_seq, m.pinned, ' +
  'm.notifications_muted';

/** A bound above any real seq. */
export const SEQ_END = Number.MAX_SAFE_INTEGER;

/**
 * The seqs a member may read, as exclusive bounds: after joinedSeq when the group shows new
 * members their history from the join, up to and including leftSeq for a former member.
 */
export function readWindow(
  conversation: Pick<ConversationRow, 'kind' | 'history'>,
  member: Pick<MemberRow, 'joined_seq' | 'left_seq'>,
): { readonly after: number; readonly before: number } {
  return {
    after: conversation.kind === 'group' && conversation.history === 'join' ? member.joined_seq : 0,
    before: member.left_seq === null ? SEQ_END : member.left_seq + 1,
  };
}

/** Why this member may not send here (checked inside the append transaction), or null. */
export function sendRefusal(
  conversation: Pick<ConversationRow, 'muted_all' | 'dismissed_at_ms'>,
  member: Pick<MemberRow, 'role' | 'muted' | 'left_seq'> | null,
): ErrorCode | null {
  if (!member || member.left_seq !== null) return 'not_member';
  if (conversation.dismissed_at_ms !== null) return 'group_dismissed';
  if (member.muted) return 'muted';
  if (conversation.muted_all && member.role === 'member') return 'group_muted';
  return null;
}

export const MESSAGE_COLUMNS =
  'conversation_id, seq, id, sender_id, device, body, at_us, recalled_at_us, edited_at_us';

/** One emoji's reactions on one message, as the marks query returns them. */
export interface ReactionRow {
  seq: number;
  emoji: string;
  count: number;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  me: number | boolean;
}

/** Groups reaction rows (already in first-use order) by seq. */
export function toReactions(rows: readonly ReactionRow[]): Map<number, ReactionCount[]> {
  const bySeq = new Map<number, ReactionCount[]>();
  for (const r of rows) {
    let list = bySeq.get(r.seq);
    if (!list) bySeq.set(r.seq, (list = []));
    list.push({ emoji: r.emoji, count: r.count, me: Boolean(r.me) });
  }
  return bySeq;
}

/**
 * The viewer's window in a view, as bounds for the summaries: (after, upTo]; its mentions count
 * from (mentionsAfter, upTo], the part not read yet.
 */
export function viewWindow(v: ConversationView): {
  after: number;
  mentionsAfter: number;
  upTo: number;
} {
  const after = v.kind === 'group' && v.history === 'join' ? v.joinedSeq : 0;
  return { after, mentionsAfter: Math.max(after, v.readSeq), upTo: v.lastSeq };
}

/** changedMessages' seqs: those that changed and those the viewer hid, once each, ascending. */
export function changedSeqOrder(changed: readonly number[], hidden: readonly number[]): number[] {
  return [...new Set([...changed, ...hidden])].sort((a, b) => a - b);
}

/** What a recalled message's body becomes. */
export const RECALLED_BODY: MessageBody = Object.freeze({ kind: 'recalled' });

// Direct chats and rooms share the unique `name` column under distinct prefixes, so that no
// room name can ever collide with the key of a direct chat.
export const ROOM_PREFIX = 'room:';
export const directKey = (a: string, b: string): string =>
  a < b ? `direct:${a}:${b}` : `direct:${b}:${a}`;

export const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  createdAtMs: row.created_at_ms,
});

/** A device's session row: its last use is its creation until it is touched. */
export interface DeviceSessionRow {
  device: string;
  created_at_ms: number;
  last_seen_ms: number;
}

/** A session row joined with its user's name (what authentication reads). */
export interface SessionRow extends DeviceSessionRow {
  user_id: string;
  username: string;
}

export const toDeviceSession = (row: DeviceSessionRow): DeviceSession => ({
  device: row.device,
  createdAtMs: row.created_at_ms,
  lastSeenMs: row.last_seen_ms,
});

export const toSession = (row: SessionRow): Session => ({
  userId: row.user_id,
  username: row.username,
  ...toDeviceSession(row),
});

/** The user with its password hash and when it was disabled (null: never, or enabled again). */
export const toUserWithSecret = (row: UserRow): UserWithSecret => ({
  ...toUser(row),
  passwordHash: row.password_hash,
  disabledAtMs: row.disabled_at_ms ?? null,
});

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    kind: row.kind,
    name: row.kind === 'room' && row.name !== null ? row.name.slice(ROOM_PREFIX.length) : null,
    title: row.title,
    createdAtMs: row.created_at_ms,
    lastSeq: row.last_seq,
    lastAtUs: row.last_at_us,
    history: row.history,
    mutedAll: Boolean(row.muted_all),
    dismissedAtMs: row.dismissed_at_ms,
    avatar: row.avatar,
  };
}

export function toMember(row: MemberRow): Member {
  return {
    conversationId: row.conversation_id,
    userId: row.user_id,
    role: row.role,
    joinedSeq: row.joined_seq,
    deliveredSeq: row.delivered_seq,
    readSeq: row.read_seq,
    updatedUs: row.updated_us,
    muted: Boolean(row.muted),
    leftSeq: row.left_seq,
  };
}

export function toView(row: ViewRow): ConversationView {
  const left = row.left_seq;
  return {
    ...toConversation(row),
    // A former member's view ends where its membership did.
    ...(left !== null
      ? {
          lastSeq: Math.min(row.last_seq, left),
          lastAtUs: Math.min(row.last_at_us, row.updated_us),
        }
      : {}),
    role: row.role,
    joinedSeq: row.joined_seq,
    deliveredSeq: row.delivered_seq,
    readSeq: row.read_seq,
    leftSeq: left,
    pinned: Boolean(row.pinned),
    notificationsMuted: Boolean(row.notifications_muted),
  };
}

/**
 * The rows of one page, read lazily: at most `limit`, and past the first no further than
 * `bytesMax` bytes of bodies (PAGE_BYTES in messaging/model.ts). Stops reading as soon
 * as it knows there is more, so a caller that hands it an iterator loads one row past the page.
 */
export function takePage(
  rows: Iterable<MessageRow & { body: string }>,
  limit: number,
  bytesMax = Number.POSITIVE_INFINITY,
): { rows: MessageRow[]; hasMore: boolean; bodyChars: number } {
  const taken: MessageRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (taken.length >= limit || (taken.length > 0 && bytes + row.body.length > bytesMax)) {
      return { rows: taken, hasMore: true, bodyChars: bytes };
    }
    // UTF-16 units: at most the UTF-8 bytes for ASCII, at most 3x fewer otherwise; the bound is
    // on memory held, which is what the string costs.
    bytes += row.body.length;
    taken.push(row);
  }
  return { rows: taken, hasMore: false, bodyChars: bytes };
}

/**
 * The one rule (docs/architecture.md), written once for every backend and every kind of message
 * (a send, a group's system message): the next message of a conversation whose newest is
 * (lastSeq, lastAtUs) takes seq lastSeq + 1, with no gap and no repeat, and is stamped
 * max(now, lastAtUs + 1), so that its time grows with its seq. Call it only inside the
 * transaction that then writes the row and the conversation's new head.
 */
export function nextMessage(
  head: { readonly lastSeq: number; readonly lastAtUs: number },
  nowUs: number,
  m: { conversationId: string; senderId: string; device: string; body: MessageBody },
): StoredMessage {
  return {
    id: newId('m'),
    conversationId: m.conversationId,
    seq: head.lastSeq + 1,
    senderId: m.senderId,
    device: m.device,
    body: m.body,
    atUs: Math.max(nowUs, head.lastAtUs + 1),
    recalledAtUs: null,
  };
}

export function toMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    senderId: row.sender_id,
    device: row.device,
    body: typeof row.body === 'string' ? (JSON.parse(row.body) as MessageBody) : row.body,
    atUs: row.at_us,
    recalledAtUs: row.recalled_at_us,
    ...(row.edited_at_us !== null && row.edited_at_us !== undefined
      ? { editedAtUs: row.edited_at_us }
      : {}),
  };
}

export interface PusherRow {
  user_id: string;
  device: string;
  url: string;
  token: string | null;
  created_at_ms: number;
}

export const toPusher = (r: PusherRow): Pusher => ({
  userId: r.user_id,
  device: r.device,
  url: r.url,
  token: r.token,
  createdAtMs: Number(r.created_at_ms),
});

export interface AttachmentRow {
  id: string;
  owner_id: string;
  sha256: string;
  size: number;
  mime: string;
  name: string | null;
  created_at_ms: number;
}

export const toAttachment = (r: AttachmentRow): Attachment => ({
  id: r.id,
  ownerId: r.owner_id,
  sha256: r.sha256,
  size: r.size,
  mime: r.mime,
  name: r.name,
  createdAtMs: r.created_at_ms,
});
