import type { Conversation } from '../model.js';

// The ConversationStore port: finding and opening conversations, and the silent joins and
// leaves of rooms. Groups are made and changed through GroupStore.
//
// Contract (every backend; proven by conversations.contract.ts, and the general rules in
// index.ts):
// - openDirect is idempotent: two distinct users have exactly one direct conversation, whoever
//   opens it and however many open it at once; both are its members.
// - Room names are unique among rooms. joinRoom creates the room if missing and makes the user a
//   current member (joinedSeq = lastSeq) if it is not one, also a former member coming back.
// - leaveRoom ends a current membership under the same per-conversation serialization as
//   MessageLog.append: leftSeq = the room's lastSeq; rooms record no system message.

export interface ConversationStore {
  /** The direct conversation of two distinct users, created on first use. Idempotent. */
  openDirect(
    userA: string,
    userB: string,
  ): Promise<{ conversation: Conversation; created: boolean }>;
  findDirect(userA: string, userB: string): Promise<Conversation | null>;
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
}
