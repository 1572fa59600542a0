import type { User } from '../auth/auth-store.js';
import type {
  Conversation,
  ConversationKind,
  ConversationView,
  Member,
  MemberRole,
  MessageBody,
  StoredMessage,
} from '../messaging/message-store.js';

// The table rows both SQL backends share (one schema, two dialects) and their mapping to the
// seams' types, written once.

export interface UserRow {
  id: string;
  username: string;
  password_hash: string | null;
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
}

export interface MemberRow {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  joined_seq: number;
  delivered_seq: number;
  read_seq: number;
  updated_us: number;
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
}

export type ViewRow = ConversationRow & MemberRow;

export const MESSAGE_COLUMNS =
  'conversation_id, seq, id, sender_id, device, body, at_us, recalled_at_us';

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

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    kind: row.kind,
    name: row.kind === 'room' && row.name !== null ? row.name.slice(ROOM_PREFIX.length) : null,
    title: row.title,
    createdAtMs: row.created_at_ms,
    lastSeq: row.last_seq,
    lastAtUs: row.last_at_us,
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
  };
}

export function toView(row: ViewRow): ConversationView {
  return {
    ...toConversation(row),
    role: row.role,
    deliveredSeq: row.delivered_seq,
    readSeq: row.read_seq,
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
  };
}
