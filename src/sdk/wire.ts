// Server frames in the shapes the SDK reports: the protocol's wire names (`messageId`, absent
// flags) become the SDK's Message and event types. Pure functions, no state.
import type {
  ContactFrame,
  EditedFrame,
  ErrorFrame,
  MemberFrame,
  PresenceFrame,
  ProfileFrame,
  ReactionFrame,
  ReceiptFrame,
  WireMessage,
} from '../protocol/index.js';
import { readBody } from './body.js';
import { ParleyClientError } from './errors.js';
import type {
  ClientEvents,
  EditedEvent,
  Message,
  PresenceEvent,
  ReactionEvent,
  ReceiptEvent,
} from './types.js';

/** A message's fields as both the socket and REST carry them, under either id name. */
export interface MessageFields {
  readonly conversation: string;
  readonly seq: number;
  readonly sender: string;
  readonly device: string;
  readonly body?: unknown;
  readonly at: number;
  readonly recalled?: boolean;
  readonly editedAt?: number | null;
  readonly reactions?: readonly { emoji: string; count: number; me: boolean }[];
  readonly hidden?: boolean;
}

/** A message in the SDK's shape: the flags absent on the wire become defaults. */
export function toMessage(w: MessageFields, id: string): Message {
  const body = readBody(w.body);
  return {
    conversation: w.conversation,
    seq: w.seq,
    id,
    sender: w.sender,
    device: w.device,
    body,
    at: w.at,
    recalled: w.recalled === true || body.kind === 'recalled',
    // Protobuf has no "absent" for int64: an unedited message decodes as editedAt 0.
    editedAt: w.editedAt ? w.editedAt : null,
    reactions: (w.reactions ?? []).map((r) => ({ emoji: r.emoji, count: r.count, me: r.me })),
    hidden: w.hidden === true || body.kind === 'hidden',
  };
}

export const fromWire = (w: WireMessage): Message => toMessage(w, w.messageId);

export const editedOf = (f: EditedFrame): EditedEvent => ({
  conversation: f.conversation,
  seq: f.seq,
  body: readBody(f.body),
  editedAt: f.editedAt,
  by: f.by,
});

export const reactionOf = (f: ReactionFrame): ReactionEvent => ({
  conversation: f.conversation,
  seq: f.seq,
  user: f.user,
  emoji: f.emoji,
  added: f.removed !== true,
  removed: f.removed === true,
  count: f.count,
  at: f.at,
});

export function errorOf(f: ErrorFrame): ParleyClientError {
  return new ParleyClientError(f.code, f.message, f.ref !== undefined ? { ref: f.ref } : {});
}

export const receiptOf = (f: ReceiptFrame): ReceiptEvent => ({
  conversation: f.conversation,
  user: f.user,
  deliveredSeq: f.deliveredSeq,
  readSeq: f.readSeq,
});

export const presenceOf = (f: PresenceFrame): PresenceEvent => ({ user: f.user, online: f.online });

export function memberOf(f: MemberFrame): ClientEvents['member'] {
  const { type: _type, id: _id, ...rest } = f;
  return rest;
}

export function contactOf(f: ContactFrame): ClientEvents['contact'] {
  const { type: _type, id: _id, ...rest } = f;
  return rest;
}

export function profileOf(f: ProfileFrame): ClientEvents['profile'] {
  return {
    profile: {
      id: f.user,
      username: f.username,
      displayName: f.displayName ?? null,
      bio: f.bio ?? null,
      avatar: f.avatar ?? null,
    },
    deleted: f.deleted === true,
    at: f.at,
  };
}
