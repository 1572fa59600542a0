// How a server conversation and its members become the views the list and settings show.
import { isParleyClientError, type Conversation, type ConversationMember } from 'parley/sdk';
import type { MemberView } from './types.js';

export function titleOf(raw: Conversation, peerName: string | undefined): string {
  if (raw.kind === 'group') return raw.title ?? 'Group';
  if (raw.kind === 'room') return raw.name ?? 'Room';
  return peerName ?? 'Direct chat';
}

export function memberView(m: ConversationMember): MemberView {
  return {
    id: m.id,
    username: m.username ?? m.id,
    role: m.role,
    muted: m.muted ?? false,
    deliveredSeq: m.deliveredSeq,
    readSeq: m.readSeq,
  };
}

/** The server's answer for a conversation that does not exist or is not the caller's. */
export function isGone(err: unknown): boolean {
  return isParleyClientError(err) && (err.code === 'not_member' || err.status === 404);
}
