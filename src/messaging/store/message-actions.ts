import type { Conversation, Member, MessageBody, MessageMarks, StoredMessage } from '../model.js';

// The MessageActionStore port: what members do to a message after it is sent: edit it, react to
// it, hide it for themselves, and read those marks back.
//
// Contract (every backend; proven by message-actions.contract.ts, and the general rules in
// index.ts):
// - Message actions (editMessage, react) run their judge on the state read inside the same
//   transaction that applies the change, under the conversation's serialization (as
//   MessageLog.append): a judge that throws stores nothing. `message` in that state is null when
//   the seq is outside the actor's read window (or there is no such message).
// - An edit replaces the body and sets editedAtUs; a recall after it wins, and an edit never
//   brings a recalled body back (the judge sees recalledAtUs).
// - Hidden messages (hideMessage) and reactions are per viewer: `marks` reports them for a seq
//   range; pages themselves are the same for every viewer.

/** What the store read, under the conversation's lock, for a judge of one message action. */
export interface MessageActionState {
  readonly conversation: Conversation;
  /** The actor's row if it is a current member, else null. */
  readonly actor: Member | null;
  /** The message, or null when there is none at that seq within the actor's read window. */
  readonly message: StoredMessage | null;
  /** The emojis the actor already left on this message. */
  readonly actorReactions: readonly string[];
}

/** Judges a message action against the state; throws a ParleyError to refuse (nothing is stored). */
export type MessageJudge<T> = (state: MessageActionState) => T;

export interface ReactionChange {
  readonly conversationId: string;
  readonly seq: number;
  readonly userId: string;
  readonly emoji: string;
  /** True to add the reaction, false to remove it. */
  readonly add: boolean;
}

export interface ReactionResult {
  /** False when the reaction was already there (add) or already gone (remove). */
  readonly changed: boolean;
  /** How many users left this emoji on the message afterwards. */
  readonly count: number;
}

export interface MessageActionStore {
  /**
   * Replaces a message's body with what the judge returns, and stamps editedAtUs, in one
   * transaction with the judgement. conversation_not_found for an unknown conversation.
   */
  editMessage(
    conversationId: string,
    seq: number,
    actorId: string,
    judge: MessageJudge<MessageBody>,
  ): Promise<StoredMessage>;
  /** Adds or removes one reaction after the judge approves, in one transaction with it. */
  react(change: ReactionChange, judge: MessageJudge<void>): Promise<ReactionResult>;
  /** Hides a message for one user; true when it was not hidden before. The caller checks access. */
  hideMessage(conversationId: string, seq: number, userId: string): Promise<boolean>;
  /** The viewer's marks (hidden, reactions) on the seqs from `fromSeq` to `toSeq`, inclusive. */
  marks(
    conversationId: string,
    viewerId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<MessageMarks>;
}
