import type { Member, StoredMessage } from '../messaging/store/index.js';
import type { MessageActionState } from '../messaging/store/index.js';
import {
  readWindow,
  toConversation,
  toMember,
  type ConversationRow,
  type MemberRow,
} from './rows.js';

// What the message actions of both SQL backends share: the judge's view built from the rows
// the backend read (each backend keeps only its SQL and its locking).

/** A member row as the seam's Member, or null when there is none. */
export const toMemberOrNull = (row: MemberRow | undefined): Member | null =>
  row ? toMember(row) : null;

/** Whether the actor (a current member, or undefined) may act on the message at `seq`. */
export function actorSees(
  conversation: ConversationRow,
  actor: MemberRow | undefined,
  seq: number,
): actor is MemberRow {
  if (!actor) return false;
  const w = readWindow(conversation, actor);
  return seq > w.after && seq < w.before;
}

/**
 * The judge's view of a message action, from the rows the backend read: `message` is null
 * unless the actor sees it (actorSees), and `actorReactions` are read only when it is not.
 */
export function actionState(
  conversation: ConversationRow,
  actor: MemberRow | undefined,
  message: StoredMessage | null,
  actorReactions: string[],
): MessageActionState {
  return {
    conversation: toConversation(conversation),
    actor: toMemberOrNull(actor),
    message,
    actorReactions,
  };
}
