import { ParleyError } from '../core/errors.js';
import type { Conversation, Member, MemberRole, MessageBody, StoredMessage } from './model.js';
import type { MessageActionState, MessageJudge } from './store/index.js';

// The rules of message actions (docs/messages.md): edits, reactions, recalls by admins, and who
// may manage a group's invite code. The judges are pure; the store runs each inside the
// transaction that applies it, so a judgement and its change see the same rows.

const RANK: Record<MemberRole, number> = { owner: 3, admin: 2, member: 1 };

/**
 * The gate every change of a conversation's content passes, as a send does: a current member,
 * a live group, not muted, and not a plain member of a muted group.
 */
export function assertMayAct(conversation: Conversation, actor: Member | null): Member {
  if (!actor) throw new ParleyError('not_member');
  if (conversation.dismissedAtMs !== null) throw new ParleyError('group_dismissed');
  if (actor.muted) throw new ParleyError('muted');
  if (conversation.mutedAll && actor.role === 'member') throw new ParleyError('group_muted');
  return actor;
}

function visible(state: MessageActionState): StoredMessage {
  if (!state.message) throw new ParleyError('message_not_found');
  return state.message;
}

/**
 * An edit by `actorId` to `body` (already validated as a text body) at `nowUs`: the sender's own
 * text message, not recalled, within the window. The message keeps its replyTo and forwardedFrom.
 */
export function editJudge(
  actorId: string,
  body: MessageBody,
  nowUs: number,
  windowMs: number,
): MessageJudge<MessageBody> {
  return (state) => {
    assertMayAct(state.conversation, state.actor);
    const message = visible(state);
    if (message.senderId !== actorId) {
      throw new ParleyError('forbidden', 'Only the sender may edit a message.');
    }
    if (message.recalledAtUs !== null) throw new ParleyError('message_recalled');
    if (message.body.kind !== 'text') throw new ParleyError('not_editable');
    if (nowUs - message.atUs > windowMs * 1000) throw new ParleyError('edit_expired');
    const { replyTo, forwardedFrom } = message.body;
    return {
      ...body,
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(forwardedFrom !== undefined ? { forwardedFrom } : {}),
    };
  };
}

/**
 * Adding (or removing) a reaction: a member who may act, on a message it can see that was not
 * recalled; adding a new emoji stays within `perUserMax` distinct emojis of this user.
 */
export function reactJudge(emoji: string, add: boolean, perUserMax: number): MessageJudge<void> {
  return (state) => {
    assertMayAct(state.conversation, state.actor);
    const message = visible(state);
    if (message.recalledAtUs !== null) throw new ParleyError('message_recalled');
    const mine = state.actorReactions;
    if (add && !mine.includes(emoji) && mine.length >= perUserMax) {
      throw new ParleyError('too_many_reactions');
    }
  };
}

/**
 * Who may recall a message besides its sender (within the window): in a group, the owner any
 * message, an admin any message of a user ranked below it (plain and former members), at any
 * time. `senderRole` is the sender's current role, null if it is no longer a member.
 */
export function mayModerate(
  conversation: Conversation,
  actor: Member,
  senderRole: MemberRole | null,
): boolean {
  if (conversation.kind !== 'group' || actor.role === 'member') return false;
  return RANK[actor.role] > (senderRole === null ? 0 : RANK[senderRole]);
}

/** Creating, reading or revoking a group's invite code: its admins and owner, while it is live. */
export function assertMayManageInvite(conversation: Conversation, actor: Member | null): void {
  if (!actor) throw new ParleyError('not_member');
  if (conversation.kind !== 'group') throw new ParleyError('not_group');
  if (conversation.dismissedAtMs !== null) throw new ParleyError('group_dismissed');
  if (actor.role === 'member') {
    throw new ParleyError('forbidden', 'Only admins and the owner may do this.');
  }
}
