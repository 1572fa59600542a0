import type { Member } from '../model.js';

// The MemberStore port: who is in a conversation, who shares one with whom, and the read and
// delivered watermarks.
//
// Contract (every backend; proven by members.contract.ts, and the general rules in index.ts):
// - Former members keep their row with leftSeq set (index.ts): getMember and listMembers see
//   current members only, getMembership sees both.
// - Watermarks only move forward, are capped at the conversation's lastSeq, and reading implies
//   delivery. Each change bumps the row's updatedUs, so InboxStore.changedSince reports it.

export interface MemberStore {
  /** A current member's row, else null. */
  getMember(conversationId: string, userId: string): Promise<Member | null>;
  /** The user's row, current or former (leftSeq set), else null. */
  getMembership(conversationId: string, userId: string): Promise<Member | null>;
  /** Current members only. */
  listMembers(conversationId: string): Promise<Member[]>;
  /** The users who share a direct conversation with this user: whose presence they see. */
  directPeers(userId: string): Promise<string[]>;
  /**
   * The users who share a conversation with this user, both of them current members (not left),
   * dismissed groups left out; each once, without the user: who sees its profile.
   */
  sharedWith(userId: string): Promise<string[]>;
  /**
   * Moves a member's read watermark forward (never back), capped at the conversation's lastSeq.
   * Reading also implies delivery, so deliveredSeq is raised to at least readSeq.
   * Returns the member after the change; not_member if the user is not a member.
   */
  markRead(conversationId: string, userId: string, seq: number): Promise<Member>;
  /** As markRead, for the delivered watermark. */
  markDelivered(conversationId: string, userId: string, seq: number): Promise<Member>;
}
