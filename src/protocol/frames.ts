// The frames of Parley's real-time protocol, mirroring proto/parley.proto (frames.test.ts checks
// that every frame and field here exists there). In JSON a frame is one object whose `type` is
// the proto oneof name; message bodies are JSON objects (bytes of JSON in Protobuf).
// No node:* imports: the SDK shares this file.

export type Body = { readonly kind: string; readonly [key: string]: unknown };

export interface HelloFrame {
  type: 'hello';
  id?: string;
  token: string;
  device: string;
}
export interface SendFrame {
  type: 'send';
  id?: string;
  ref: string;
  conversation: string;
  body: Body;
}
export interface AckFrame {
  type: 'ack';
  id?: string;
  conversation: string;
  seq: number;
}
export interface ReadFrame {
  type: 'read';
  id?: string;
  conversation: string;
  seq: number;
}
export interface SyncFrame {
  type: 'sync';
  id?: string;
  cursor?: string;
}
export interface PullFrame {
  type: 'pull';
  id?: string;
  conversation: string;
  after?: number;
  before?: number;
  limit?: number;
}
export interface RecallFrame {
  type: 'recall';
  id?: string;
  conversation: string;
  seq: number;
}
/** Replaces the text (and mentions) of one's own text message; docs/messages.md#edit. */
export interface EditFrame {
  type: 'edit';
  id?: string;
  conversation: string;
  seq: number;
  /** A text body: {kind: "text", text, mentions?}. */
  body: Body;
}
/** Adds (or, with remove, takes back) one's reaction to a message. */
export interface ReactFrame {
  type: 'react';
  id?: string;
  conversation: string;
  seq: number;
  emoji: string;
  remove?: boolean;
}
/** Delete for me: hides a message from this user's own reads. */
export interface HideFrame {
  type: 'hide';
  id?: string;
  conversation: string;
  seq: number;
}
export interface TypingFrame {
  type: 'typing';
  id?: string;
  conversation: string;
  user?: string;
}
export interface PingFrame {
  type: 'ping';
  id?: string;
}
export interface PongFrame {
  type: 'pong';
  id?: string;
}

export type ClientFrame =
  | HelloFrame
  | SendFrame
  | AckFrame
  | ReadFrame
  | SyncFrame
  | PullFrame
  | RecallFrame
  | EditFrame
  | ReactFrame
  | HideFrame
  | TypingFrame
  | PingFrame
  | PongFrame;

export interface WelcomeFrame {
  type: 'welcome';
  id?: string;
  user: string;
  username: string;
  device: string;
  node: string;
  heartbeatMs: number;
}
export interface SentFrame {
  type: 'sent';
  id?: string;
  ref: string;
  conversation: string;
  seq: number;
  messageId: string;
  at: number;
  duplicate: boolean;
}
/** The user's own settings of a conversation. */
export interface Preferences {
  pinned: boolean;
  /** Notifications muted: messages still arrive, clients do not notify. */
  muted: boolean;
}
export interface ConversationState {
  id: string;
  kind: string;
  name?: string;
  title?: string;
  lastSeq: number;
  deliveredSeq: number;
  readSeq: number;
  unread: number;
  lastAt: number;
  /** Set when the user is no longer a member: lastSeq stops here (docs/groups.md). */
  leftSeq?: number;
  /** Messages above readSeq that mention the user or @all. */
  mentions: number;
  preferences: Preferences;
  /** The newest message the user may see and did not hide, its long texts cut short. */
  last?: WireMessage;
  /** Groups: the avatar's attachment id. */
  avatar?: string;
  /**
   * `synced` with a cursor only: messages the user may already hold that changed since the
   * cursor (edited, recalled, reactions added or removed, hidden by the user), as they are now;
   * at most 100, the lowest seqs first. Absent when none changed.
   */
  changed?: WireMessage[];
  /** More messages changed than `changed` holds: re-read the history you hold. */
  changedMore?: boolean;
}
export interface SyncedFrame {
  type: 'synced';
  id?: string;
  conversations: ConversationState[];
  cursor: string;
}
export interface WireMessage {
  conversation: string;
  seq: number;
  messageId: string;
  sender: string;
  device: string;
  body: Body;
  /** Epoch milliseconds. */
  at: number;
  recalled?: boolean;
  /** Epoch milliseconds of the last edit; absent if never edited. */
  editedAt?: number;
  /** Reactions per emoji, in the order first used; absent when there are none. */
  reactions?: ReactionCount[];
  /** The reader hid this message (delete for me): body is {kind: "hidden"}. */
  hidden?: boolean;
}
export interface ReactionCount {
  emoji: string;
  count: number;
  /** The reader is among them. */
  me: boolean;
}
export interface MessageFrame extends WireMessage {
  type: 'message';
  id?: string;
}
export interface PulledFrame {
  type: 'pulled';
  id?: string;
  conversation: string;
  messages: WireMessage[];
  hasMore: boolean;
}
export interface ReceiptFrame {
  type: 'receipt';
  id?: string;
  conversation: string;
  user: string;
  deliveredSeq: number;
  readSeq: number;
}
export interface RecalledFrame {
  type: 'recalled';
  id?: string;
  conversation: string;
  seq: number;
  by: string;
}
/** Reply to `edit`, and a push to members: a text message's new body. */
export interface EditedFrame {
  type: 'edited';
  id?: string;
  conversation: string;
  seq: number;
  body: Body;
  /** Epoch milliseconds. */
  editedAt: number;
  by: string;
}
/** Reply to `react`, and a push to members: a reaction was added or removed. */
export interface ReactionFrame {
  type: 'reaction';
  id?: string;
  conversation: string;
  seq: number;
  user: string;
  emoji: string;
  removed: boolean;
  /** How many users left this emoji on the message now. */
  count: number;
  /** Epoch milliseconds. */
  at: number;
}
/** Reply to `hide`, and a push to the user's other devices. */
export interface HiddenFrame {
  type: 'hidden';
  id?: string;
  conversation: string;
  seq: number;
}
export interface PresenceFrame {
  type: 'presence';
  id?: string;
  user: string;
  online: boolean;
}
export interface KickedFrame {
  type: 'kicked';
  id?: string;
  reason: string;
}
/** What changed between two users; docs/contacts.md. */
export type ContactEvent =
  'requested' | 'accepted' | 'declined' | 'cancelled' | 'removed' | 'blocked' | 'unblocked';
/** Pushed to both users (every session) when their contact relation changes. */
export interface ContactFrame {
  type: 'contact';
  id?: string;
  event: ContactEvent;
  /** The user who acted. */
  from: string;
  fromUsername: string;
  /** The other user. */
  to: string;
  toUsername: string;
  /** The request's note, on `requested` only. */
  note?: string;
  /** Epoch milliseconds. */
  at: number;
}
/**
 * Pushed when a user's profile changes: to the user's sessions, to the users who share a
 * conversation with it, and to its contacts (docs/contacts.md#profile-pushes).
 */
export interface ProfileFrame {
  type: 'profile';
  id?: string;
  user: string;
  username: string;
  /** Each absent when not set. */
  displayName?: string;
  bio?: string;
  /** The picture's attachment id. */
  avatar?: string;
  /** The account was deleted (DELETE /v1/me): it has no profile, and cannot be messaged. */
  deleted?: boolean;
  /** When it changed, epoch milliseconds. */
  at: number;
}
/** What changed in a group; docs/groups.md. */
export type MemberEvent =
  | 'member.added'
  | 'member.joined'
  | 'member.removed'
  | 'member.left'
  | 'role.changed'
  | 'owner.transferred'
  | 'title.changed'
  | 'muted'
  | 'history.changed'
  | 'avatar.changed'
  | 'dismissed';
/** Pushed to the group's members after a change, and to the members it removed. */
export interface MemberFrame {
  type: 'member';
  id?: string;
  conversation: string;
  /** The seq of the system message that records the change. */
  seq: number;
  event: MemberEvent;
  /** The user who acted. */
  actor: string;
  /** The users the change is about; empty for changes of the whole group. */
  targets: string[];
  role?: string;
  title?: string;
  muted?: boolean;
  history?: string;
  dismissed?: boolean;
  /** avatar.changed: the new avatar; absent when it was cleared. */
  avatar?: string;
  /** Epoch milliseconds. */
  at: number;
}
export interface ErrorFrame {
  type: 'error';
  id?: string;
  code: string;
  message: string;
  ref?: string;
}

export type ServerFrame =
  | WelcomeFrame
  | SentFrame
  | SyncedFrame
  | PulledFrame
  | MessageFrame
  | ReceiptFrame
  | RecalledFrame
  | EditedFrame
  | ReactionFrame
  | HiddenFrame
  | TypingFrame
  | PresenceFrame
  | KickedFrame
  | ContactFrame
  | ProfileFrame
  | MemberFrame
  | ErrorFrame
  | PingFrame
  | PongFrame;

export type Frame = ClientFrame | ServerFrame;
export type FrameType = Frame['type'];

export const CLIENT_FRAME_TYPES = [
  'hello',
  'send',
  'ack',
  'read',
  'sync',
  'pull',
  'recall',
  'edit',
  'react',
  'hide',
  'typing',
  'ping',
  'pong',
] as const satisfies readonly ClientFrame['type'][];

/** WebSocket close codes, as docs/protocol.md lists them. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  internalError: 1011,
  serviceRestart: 1012,
  badFrame: 4400,
  unauthenticated: 4401,
  helloTimeout: 4408,
  kicked: 4409,
  rateLimited: 4429,
  tooSlow: 4503,
} as const;
