import type {
  Conversation,
  GroupHistory,
  Member,
  MemberRole,
  MessageBody,
  StoredMessage,
} from '../model.js';

// The GroupStore port: making groups, applying a managed change with its system message, and
// the group's invite code. The rules of a change live in the planner (group-rules.ts), not here.
//
// Contract (every backend; proven by groups.contract.ts, and the general rules in index.ts):
// - changeGroup runs its planner and applies the plan (member rows, the conversation's settings,
//   and one system message with the next seq, stamped as MessageLog.append stamps a send) in
//   ONE transaction, under the same per-conversation serialization as append: a refused change
//   (the planner throws) stores nothing.
// - setInvite runs its judge in the transaction that writes the code; codes are unique across
//   conversations.

export interface NewGroup {
  readonly title: string;
  readonly ownerId: string;
  /** Other members; the owner is added as owner whether or not listed here. */
  readonly memberIds: readonly string[];
  /** What members added later may read; 'join' when absent. */
  readonly history?: GroupHistory;
}

/** A managed change of a group (docs/groups.md); the rules live in the planner, not the store. */
export type GroupAction =
  | { readonly type: 'add'; readonly userIds: readonly string[] }
  | { readonly type: 'remove'; readonly userId: string }
  | { readonly type: 'leave' }
  | { readonly type: 'role'; readonly userId: string; readonly role: 'admin' | 'member' }
  | { readonly type: 'transfer'; readonly userId: string }
  | { readonly type: 'title'; readonly title: string }
  | { readonly type: 'mute'; readonly userId: string; readonly muted: boolean }
  | { readonly type: 'muteAll'; readonly muted: boolean }
  | { readonly type: 'history'; readonly history: GroupHistory }
  | { readonly type: 'avatar'; readonly avatar: string | null }
  | { readonly type: 'join'; readonly code: string }
  | { readonly type: 'dismiss' };

export interface GroupChange {
  readonly conversationId: string;
  readonly actorId: string;
  /** The actor's device: the system message is stored as sent from it. */
  readonly device: string;
  readonly action: GroupAction;
  /** Users whose rows the planner needs (the action's targets, the actor for a leave). */
  readonly targetIds: readonly string[];
}

/** What the store read, under the conversation's lock, for the planner to judge. */
export interface GroupState {
  readonly conversation: Conversation;
  /** The actor's row if it is a current member, else null. */
  readonly actor: Member | null;
  /** The rows (current or former) of targetIds; a user who never was a member is absent. */
  readonly targets: ReadonlyMap<string, Member>;
  /** How many current members the conversation has. */
  readonly memberCount: number;
  /** The group's invite code, or null; only a join compares against it. */
  readonly inviteCode: string | null;
}

/** What to write, in the transaction that appends `body` as the next system message. */
export interface GroupPlan {
  readonly body: MessageBody;
  /** New or returning members: role member, not muted, joinedSeq = the message's seq - 1. */
  readonly join?: readonly string[];
  /** Members whose membership ends: leftSeq = the message's seq. */
  readonly leave?: readonly string[];
  readonly roles?: readonly { readonly userId: string; readonly role: MemberRole }[];
  readonly mute?: readonly { readonly userId: string; readonly muted: boolean }[];
  readonly title?: string;
  readonly mutedAll?: boolean;
  readonly history?: GroupHistory;
  /** A new avatar; null clears it; absent leaves it. */
  readonly avatar?: string | null;
  readonly dismiss?: boolean;
}

/** Judges a change against the state; throws a ParleyError to refuse it (nothing is stored). */
export type GroupPlanner = (state: GroupState) => GroupPlan;

export interface GroupChangeResult {
  /** The conversation after the change. */
  readonly conversation: Conversation;
  /** The system message that records it. */
  readonly message: StoredMessage;
  readonly plan: GroupPlan;
}

export interface GroupStore {
  createGroup(group: NewGroup): Promise<Conversation>;
  /** See the contract: one transaction for the judgement, the member rows and the system message. */
  changeGroup(change: GroupChange, planner: GroupPlanner): Promise<GroupChangeResult>;
  /**
   * Sets (a string) or revokes (null) a group's invite code after `judge` approves the actor,
   * in one transaction. Codes are unique across conversations.
   */
  setInvite(
    conversationId: string,
    actorId: string,
    code: string | null,
    judge: (conversation: Conversation, actor: Member | null, current: string | null) => void,
  ): Promise<void>;
  /** The group's current invite code, or null. */
  getInvite(conversationId: string): Promise<string | null>;
  /** The conversation whose current invite code this is, or null. */
  findByInvite(code: string): Promise<Conversation | null>;
}
