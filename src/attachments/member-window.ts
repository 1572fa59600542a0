import { isId } from '../core/ids.js';
import type { MessageStores } from '../messaging/store/index.js';

/**
 * What a user may read of the attachments sent in one conversation: those first sent there in
 * (fromUs, untilUs], the times of its read window, plus the group's current avatar while it is
 * a member.
 */
export interface MemberWindow {
  /** Exclusive, microseconds: -1 when the window starts with the conversation. */
  readonly fromUs: number;
  /** Inclusive, microseconds: +Infinity for a current member, its leaving for a former one. */
  readonly untilUs: number;
  /** A current member's view of the group's avatar (it shows whatever the window), else null. */
  readonly avatar: string | null;
}

/** compose/services.ts injects memberWindowOf(the message store ports). */
export type MemberWindowOf = (conversationId: string, userId: string) => Promise<MemberWindow>;

/** Anyone without a membership row: nothing. */
const NONE: MemberWindow = { fromUs: -1, untilUs: -1, avatar: null };
/** The store lost the message that bounds the window (it never deletes one): read nothing. */
const LOST: MemberWindow = {
  fromUs: Number.POSITIVE_INFINITY,
  untilUs: Number.POSITIVE_INFINITY,
  avatar: null,
};

type WindowReads = Pick<MessageStores, 'members' | 'conversations' | 'log'>;

/**
 * A member's window in time, from the same seqs its message reads use (the store's readWindow):
 * after joinedSeq when a group shows new members their history from the join, up to and
 * including leftSeq for a former member. A message's `atUs` grows with its seq, so the window's
 * bounds are the times of those two messages.
 */
export function memberWindowOf(store: WindowReads): MemberWindowOf {
  return async (conversationId, userId) => {
    if (!isId(conversationId)) return NONE;
    const [member, conversation] = await Promise.all([
      store.members.getMembership(conversationId, userId),
      store.conversations.getConversation(conversationId),
    ]);
    if (!member || !conversation) return NONE;
    const afterSeq =
      conversation.kind === 'group' && conversation.history === 'join' ? member.joinedSeq : 0;
    const [joined, left] = await Promise.all([
      afterSeq > 0 ? store.log.getMessage(conversationId, afterSeq) : null,
      member.leftSeq !== null ? store.log.getMessage(conversationId, member.leftSeq) : null,
    ]);
    if ((afterSeq > 0 && !joined) || (member.leftSeq !== null && !left)) return LOST;
    return {
      fromUs: joined?.atUs ?? -1,
      untilUs: left?.atUs ?? Number.POSITIVE_INFINITY,
      avatar: member.leftSeq === null ? conversation.avatar : null,
    };
  };
}
