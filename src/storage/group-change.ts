import type {
  GroupChange,
  GroupHistory,
  GroupPlan,
  GroupState,
  Member,
  MemberRole,
  StoredMessage,
} from '../messaging/store/index.js';
import {
  nextMessage,
  toConversation,
  toMember,
  type ConversationRow,
  type MemberRow,
} from './rows.js';

// GroupStore.changeGroup, the part both SQL backends share: the state the planner judges, built
// from the rows read under the conversation's lock, and what an approved plan writes. Each
// backend keeps only its SQL and its locking.

/** The planner's view of a conversation, from the rows read under its lock. */
export function groupState(
  conversation: ConversationRow,
  rows: readonly MemberRow[],
  change: GroupChange,
  memberCount: number,
): GroupState {
  const byUser = new Map(rows.map((r) => [r.user_id, toMember(r)]));
  const actor = byUser.get(change.actorId);
  const targets = new Map<string, Member>();
  for (const id of change.targetIds) {
    const member = byUser.get(id);
    if (member) targets.set(id, member);
  }
  return {
    conversation: toConversation(conversation),
    actor: actor && actor.leftSeq === null ? actor : null,
    targets,
    memberCount,
    inviteCode: conversation.invite_code,
  };
}

/** Everything an approved plan writes, in one transaction with its system message. */
export interface GroupWrites {
  /** The system message: the next seq, stamped as a send is (nextMessage). */
  readonly message: StoredMessage;
  /** Its ref: unique, so that (sender, device, ref) stays unique for system messages too. */
  readonly ref: string;
  /** New or returning members join as plain members, their watermarks at joinedSeq. */
  readonly join: { readonly userIds: readonly string[]; readonly joinedSeq: number };
  /** Members whose membership ends at the system message's seq. */
  readonly leave: readonly string[];
  readonly roles: readonly { readonly userId: string; readonly role: MemberRole }[];
  readonly mute: readonly { readonly userId: string; readonly muted: boolean }[];
  /** The conversation's settings; null leaves one as it is. */
  readonly settings: {
    readonly title: string | null;
    readonly mutedAll: boolean | null;
    readonly history: GroupHistory | null;
    /** Set once: a dismissed group stays dismissed at its first time. */
    readonly dismissedAtMs: number | null;
    /** Whether to write `avatar` (null clears it). */
    readonly setAvatar: boolean;
    readonly avatar: string | null;
  };
  /** The actor reads its own system message, as its own sends. */
  readonly readBy: string;
  /** When, for the member rows' updatedUs (the message's atUs) and joins (milliseconds). */
  readonly atUs: number;
  readonly nowMs: number;
}

/** What `plan` writes into `conversation` (read under its lock) at this time. */
export function groupWrites(
  conversation: ConversationRow,
  change: GroupChange,
  plan: GroupPlan,
  now: { readonly ms: number; readonly us: number },
): GroupWrites {
  const message = nextMessage(
    { lastSeq: conversation.last_seq, lastAtUs: conversation.last_at_us },
    now.us,
    {
      conversationId: change.conversationId,
      senderId: change.actorId,
      device: change.device,
      body: plan.body,
    },
  );
  return {
    message,
    ref: `system:${message.id}`,
    join: { userIds: plan.join ?? [], joinedSeq: message.seq - 1 },
    leave: plan.leave ?? [],
    roles: plan.roles ?? [],
    mute: plan.mute ?? [],
    settings: {
      title: plan.title ?? null,
      mutedAll: plan.mutedAll ?? null,
      history: plan.history ?? null,
      dismissedAtMs: plan.dismiss ? now.ms : null,
      setAvatar: plan.avatar !== undefined,
      avatar: plan.avatar ?? null,
    },
    readBy: change.actorId,
    atUs: message.atUs,
    nowMs: now.ms,
  };
}
