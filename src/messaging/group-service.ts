import { randomBytes } from 'node:crypto';
import { ParleyError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { isId } from '../core/ids.js';
import { normalizeUsername } from '../core/names.js';
import type { DeletionStep, UserDirectory } from '../auth/index.js';
import type { GroupChanged, MessagingHub } from './events.js';
import { groupPlanner, targetsOf, type SystemBody } from './group-rules.js';
import type { Membership } from './membership.js';
import { assertMayManageInvite } from './message-rules.js';
import type { AttachmentUse, Caller, Conversation, GroupHistory } from './model.js';
import type {
  ConversationStore,
  GroupAction,
  GroupStore,
  InboxStore,
  MemberStore,
} from './store/index.js';

/** Invite codes: 16 base64url characters from 96 random bits. */
const INVITE_CODE_BYTES = 12;
const INVITE_CODE_RE = /^[A-Za-z0-9_-]{16}$/;

/** What the group service needs. */
export interface GroupServiceDeps {
  readonly store: {
    readonly conversations: ConversationStore;
    readonly members: MemberStore;
    readonly inbox: InboxStore;
    readonly groups: GroupStore;
  };
  readonly events: MessagingHub;
  readonly membership: Membership;
  readonly users: UserDirectory;
  readonly limits: Limits;
  readonly attachmentUse: AttachmentUse | undefined;
}

/**
 * Managed groups (docs/groups.md): creating one, every change through the pure rules of
 * group-rules.ts applied in one store transaction, invite codes, and leaving (a room's leave is
 * silent). The rules themselves stay pure; this service only reads, applies and tells.
 */
export class GroupService {
  private readonly store: GroupServiceDeps['store'];
  private readonly events: MessagingHub;
  private readonly membership: Membership;
  private readonly users: UserDirectory;
  private readonly limits: Limits;
  private readonly attachmentUse: AttachmentUse | undefined;

  constructor(deps: GroupServiceDeps) {
    this.store = deps.store;
    this.events = deps.events;
    this.membership = deps.membership;
    this.users = deps.users;
    this.limits = deps.limits;
    this.attachmentUse = deps.attachmentUse;
  }

  async createGroup(
    caller: Caller,
    title: unknown,
    memberNames: unknown,
    history: GroupHistory = 'join',
  ): Promise<Conversation> {
    const checked = this.checkTitle(title);
    const memberIds = (await this.userIds(memberNames)).filter((id) => id !== caller.userId);
    if (memberIds.length + 1 > this.limits.groupMembersMax)
      throw new ParleyError('too_many_members');
    const group = await this.store.groups.createGroup({
      title: checked,
      ownerId: caller.userId,
      memberIds,
      history,
    });
    this.events.membersChanged(group.id);
    return group;
  }

  /** Adds users, by username, to a group (admins and the owner). */
  addMembers(caller: Caller, conversationId: string, memberNames: unknown): Promise<GroupChanged> {
    return this.userIds(memberNames).then((userIds) =>
      this.changeGroup(caller, conversationId, { type: 'add', userIds }),
    );
  }

  /**
   * Applies one group change (docs/groups.md): judged and stored, with its system message, in one
   * store transaction; then members learn of it (membersChanged, messageStored, groupChanged).
   */
  async changeGroup(
    caller: Caller,
    conversationId: string,
    action: GroupAction,
  ): Promise<GroupChanged> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    if (action.type === 'title') this.checkTitle(action.title);
    if (action.type === 'avatar' && action.avatar !== null) {
      await this.useAvatar(caller, conversationId, action.avatar);
    }
    const { conversation, message, plan } = await this.store.groups.changeGroup(
      {
        conversationId,
        actorId: caller.userId,
        device: caller.device,
        action,
        targetIds: targetsOf(action, caller.userId),
      },
      groupPlanner(action, caller.userId, this.limits.groupMembersMax),
    );
    const changed: GroupChanged = {
      conversation,
      message,
      body: plan.body as SystemBody,
      left: plan.leave ?? [],
    };
    if (plan.join || plan.leave) this.events.membersChanged(conversationId);
    this.events.messageStored(message);
    this.events.groupChanged(changed);
    return changed;
  }

  /**
   * A group avatar is an attachment the acting admin may use; recording that use lets every
   * member download it. Asked only of an actor the planner would let through, so a refused
   * change records nothing (short of a role change racing it).
   */
  private async useAvatar(caller: Caller, conversationId: string, avatar: string): Promise<void> {
    if (!isId(avatar)) throw new ParleyError('invalid_request', 'avatar must be an attachment id.');
    const [conversation, actor] = await Promise.all([
      this.store.conversations.getConversation(conversationId),
      this.store.members.getMember(conversationId, caller.userId),
    ]);
    const mayChange =
      conversation?.kind === 'group' &&
      conversation.dismissedAtMs === null &&
      actor !== null &&
      actor.role !== 'member';
    if (!mayChange) return;
    if (!this.attachmentUse) {
      throw new ParleyError('invalid_request', 'This server does not take attachments.');
    }
    await this.attachmentUse(avatar, conversationId, caller.userId);
  }

  private checkTitle(title: unknown): string {
    if (
      typeof title !== 'string' ||
      title.trim() === '' ||
      title.length > this.limits.titleCharsMax
    ) {
      throw new ParleyError(
        'invalid_request',
        `title must be 1 to ${this.limits.titleCharsMax} characters.`,
      );
    }
    return title;
  }

  /** Usernames → user ids; user_not_found names every unknown one. */
  private async userIds(memberNames: unknown): Promise<string[]> {
    if (!Array.isArray(memberNames))
      throw new ParleyError('invalid_request', 'members must be an array of usernames.');
    const names = [...new Set(memberNames.map(normalizeUsername))];
    // Bounded before any lookup; the exact count is checked against the members.
    if (names.length > this.limits.groupMembersMax) throw new ParleyError('too_many_members');
    const found = await this.users.byUsername(names);
    const unknown = names.filter((n) => !found.has(n));
    if (unknown.length > 0)
      throw new ParleyError(
        'user_not_found',
        `No user named ${unknown.map((n) => `"${n}"`).join(', ')}.`,
      );
    return [...found.values()].map((u) => u.id);
  }

  /** A new invite code for a group (replacing any earlier one); admins and the owner. */
  async createInvite(caller: Caller, conversationId: string): Promise<string> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const code = randomBytes(INVITE_CODE_BYTES).toString('base64url');
    await this.store.groups.setInvite(conversationId, caller.userId, code, (c, actor) =>
      assertMayManageInvite(c, actor),
    );
    return code;
  }

  /** Revokes the group's invite code; invite_not_found when there is none. */
  async revokeInvite(caller: Caller, conversationId: string): Promise<void> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    await this.store.groups.setInvite(conversationId, caller.userId, null, (c, actor, current) => {
      assertMayManageInvite(c, actor);
      if (current === null) throw new ParleyError('invite_not_found');
    });
  }

  /** The group's invite code, for its admins and owner; invite_not_found when there is none. */
  async getInvite(caller: Caller, conversationId: string): Promise<string> {
    const conversation = await this.membership.requireMember(conversationId, caller.userId);
    assertMayManageInvite(
      conversation,
      await this.store.members.getMember(conversationId, caller.userId),
    );
    const code = await this.store.groups.getInvite(conversationId);
    if (code === null) throw new ParleyError('invite_not_found');
    return code;
  }

  /** Joins the group whose current invite code this is (docs/groups.md#invite-codes). */
  async joinByInvite(caller: Caller, code: unknown): Promise<GroupChanged> {
    if (typeof code !== 'string' || !INVITE_CODE_RE.test(code)) {
      throw new ParleyError('invite_not_found');
    }
    const conversation = await this.store.groups.findByInvite(code);
    if (!conversation) throw new ParleyError('invite_not_found');
    return this.changeGroup(caller, conversation.id, { type: 'join', code });
  }

  /**
   * The titles of the live groups the user owns with other members in them: an account being
   * deleted must hand them over first (owner_must_transfer), as leaving would require.
   */
  async groupsToHandOver(userId: string): Promise<string[]> {
    const owned = (await this.store.inbox.listConversations(userId)).filter(
      (c) => c.kind === 'group' && c.role === 'owner' && c.dismissedAtMs === null,
    );
    const titles: string[] = [];
    for (const group of owned) {
      const members = await this.store.members.listMembers(group.id);
      if (members.some((m) => m.userId !== userId && m.leftSeq === null)) {
        titles.push(group.title ?? group.id);
      }
    }
    return titles;
  }

  /**
   * Leaves a group (a `leave` change: its rules, a system message, a `member` push) or a room
   * (silently: rooms announce neither joins nor leaves; joining it again is a room join). Null for
   * a room, whose leave records no message.
   */
  async leave(caller: Caller, conversationId: string): Promise<GroupChanged | null> {
    if (!isId(conversationId)) throw new ParleyError('conversation_not_found');
    const conversation = await this.store.conversations.getConversation(conversationId);
    if (conversation?.kind !== 'room') {
      return this.changeGroup(caller, conversationId, { type: 'leave' });
    }
    await this.store.conversations.leaveRoom(conversationId, caller.userId);
    this.events.membersChanged(conversationId);
    return null;
  }

  /**
   * Messaging's part of deleting an account (AuthService.onDeletion): refused while the user
   * owns a live group with other members in it (owner_must_transfer, naming up to five), as
   * leaving would be; then it leaves every group and room.
   */
  deletionStep(): DeletionStep {
    return {
      check: async (account) => {
        const titles = await this.groupsToHandOver(account.userId);
        if (titles.length === 0) return;
        const shown = titles.slice(0, 5).map((t) => `"${t}"`);
        throw new ParleyError(
          'owner_must_transfer',
          `Transfer the groups you own first: ${shown.join(', ')}${titles.length > 5 ? ', …' : ''}.`,
        );
      },
      cleanup: (account) => this.leaveAll({ userId: account.userId, device: account.device }),
    };
  }

  /**
   * Leaves every group and room the user is a current member of (an account being deleted),
   * each as `leave` does; a group it owns alone is dismissed.
   */
  async leaveAll(caller: Caller): Promise<void> {
    const joined = (await this.store.inbox.listConversations(caller.userId)).filter(
      (c) => c.kind !== 'direct',
    );
    for (const c of joined) await this.leave(caller, c.id);
  }
}
