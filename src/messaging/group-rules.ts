import { ParleyError } from '../core/errors.js';
import type { MemberEvent } from '../protocol/index.js';
import type { GroupHistory, Member, MemberRole, MessageBody } from './model.js';
import type { GroupAction, GroupPlan, GroupPlanner, GroupState } from './store/index.js';

// The rules of group management (docs/groups.md), as one pure planner per change. The store runs
// the planner inside the transaction that applies its plan, so the judgement and the change see
// the same rows: two admins acting at once cannot both pass on a state that one of them changes.

/**
 * What a group change records in the conversation's seq stream: the names the `member` push
 * carries (one list, the protocol's).
 */
export type GroupEventName = MemberEvent;

/** The body of a system message. `targets` is empty for changes of the whole group. */
export interface SystemBody extends MessageBody {
  readonly kind: 'system';
  readonly event: GroupEventName;
  readonly actor: string;
  readonly targets: readonly string[];
  readonly role?: MemberRole;
  readonly title?: string;
  readonly muted?: boolean;
  readonly history?: GroupHistory;
  /** On avatar.changed: the new avatar's attachment id, or null when it was cleared. */
  readonly avatar?: string | null;
  /** On member.left: the last member left, which dismissed the group. */
  readonly dismissed?: boolean;
}

const RANK: Record<MemberRole, number> = { owner: 3, admin: 2, member: 1 };

/** The users whose rows a planner for this action needs. */
export function targetsOf(action: GroupAction, actorId: string): string[] {
  switch (action.type) {
    case 'add':
      return [...action.userIds];
    case 'remove':
    case 'role':
    case 'transfer':
    case 'mute':
      return [action.userId];
    case 'leave':
    case 'join':
      return [actorId];
    case 'title':
    case 'muteAll':
    case 'history':
    case 'avatar':
    case 'dismiss':
      return [];
  }
}

function atLeast(actor: Member, role: MemberRole): void {
  if (RANK[actor.role] < RANK[role]) {
    throw new ParleyError(
      'forbidden',
      role === 'owner' ? 'Only the owner may do this.' : 'Only admins and the owner may do this.',
    );
  }
}

/** Acting on another member (remove, mute) needs a strictly higher role than theirs. */
function outranks(actor: Member, target: Member): void {
  if (RANK[actor.role] <= RANK[target.role]) {
    throw new ParleyError('forbidden', 'You may only do this to members below your role.');
  }
}

function current(state: GroupState, userId: string): Member {
  const m = state.targets.get(userId);
  if (!m || m.leftSeq !== null) throw new ParleyError('member_not_found');
  return m;
}

function unchanged(): never {
  throw new ParleyError('no_change');
}

/** Builds a change's system message: its event, the actor, the targets and what changed. */
type BodyOf = (event: GroupEventName, targets: readonly string[], extra?: object) => SystemBody;

/** What every plan of a current member's change reads. */
interface PlanContext {
  readonly state: GroupState;
  readonly actor: Member;
  readonly actorId: string;
  readonly membersMax: number;
  readonly body: BodyOf;
}

type MemberAction = Extract<GroupAction, { type: 'add' | 'remove' | 'role' | 'transfer' | 'mute' }>;
type SettingAction = Extract<
  GroupAction,
  { type: 'title' | 'muteAll' | 'history' | 'avatar' | 'dismiss' }
>;

/** The planner for one change by one actor; `membersMax` is limits.groupMembersMax. */
export function groupPlanner(
  action: GroupAction,
  actorId: string,
  membersMax: number,
): GroupPlanner {
  return (state) => {
    const { conversation } = state;
    const body: BodyOf = (event, targets, extra = {}) => ({
      kind: 'system',
      event,
      actor: actorId,
      targets,
      ...extra,
    });
    if (action.type === 'join') return planJoin(state, action.code, actorId, membersMax, body);
    const actor = state.actor;
    if (!actor) throw new ParleyError('not_member');
    if (conversation.kind !== 'group') throw new ParleyError('not_group');
    if (conversation.dismissedAtMs !== null && action.type !== 'leave') {
      throw new ParleyError('group_dismissed');
    }
    const context: PlanContext = { state, actor, actorId, membersMax, body };
    switch (action.type) {
      case 'leave':
        return planLeave(state, actor, body);
      case 'add':
      case 'remove':
      case 'role':
      case 'transfer':
      case 'mute':
        return planMemberChange(action, context);
      default:
        return planSettingChange(action, context);
    }
  };
}

/** Changes to members: who is in, their roles, who may send. */
function planMemberChange(action: MemberAction, context: PlanContext): GroupPlan {
  const { state, actor, actorId, body } = context;
  switch (action.type) {
    case 'add': {
      atLeast(actor, 'admin');
      const fresh = [...new Set(action.userIds)].filter((id) => {
        const row = state.targets.get(id);
        return !row || row.leftSeq !== null;
      });
      if (fresh.length === 0) throw new ParleyError('already_member');
      if (state.memberCount + fresh.length > context.membersMax) {
        throw new ParleyError('too_many_members');
      }
      return { body: body('member.added', fresh), join: fresh };
    }
    case 'remove': {
      if (action.userId === actorId) {
        throw new ParleyError('invalid_request', 'To leave a group, use leave.');
      }
      const target = current(state, action.userId);
      atLeast(actor, 'admin');
      outranks(actor, target);
      return { body: body('member.removed', [target.userId]), leave: [target.userId] };
    }
    case 'role': {
      atLeast(actor, 'owner');
      const target = current(state, action.userId);
      if (target.role === 'owner') {
        throw new ParleyError('invalid_request', 'To hand over the group, transfer ownership.');
      }
      if (target.role === action.role) unchanged();
      return {
        body: body('role.changed', [target.userId], { role: action.role }),
        roles: [{ userId: target.userId, role: action.role }],
      };
    }
    case 'transfer': {
      atLeast(actor, 'owner');
      const target = current(state, action.userId);
      if (target.userId === actorId) unchanged();
      return {
        body: body('owner.transferred', [target.userId]),
        roles: [
          { userId: target.userId, role: 'owner' },
          { userId: actorId, role: 'admin' },
        ],
      };
    }
    case 'mute': {
      atLeast(actor, 'admin');
      const target = current(state, action.userId);
      outranks(actor, target);
      if (target.muted === action.muted) unchanged();
      return {
        body: body('muted', [target.userId], { muted: action.muted }),
        mute: [{ userId: target.userId, muted: action.muted }],
      };
    }
  }
}

/** Changes to the group's own settings, and its end. */
function planSettingChange(action: SettingAction, context: PlanContext): GroupPlan {
  const { actor, body } = context;
  const { conversation } = context.state;
  switch (action.type) {
    case 'title':
      atLeast(actor, 'admin');
      if (conversation.title === action.title) unchanged();
      return { body: body('title.changed', [], { title: action.title }), title: action.title };
    case 'muteAll':
      atLeast(actor, 'admin');
      if (conversation.mutedAll === action.muted) unchanged();
      return { body: body('muted', [], { muted: action.muted }), mutedAll: action.muted };
    case 'history':
      atLeast(actor, 'admin');
      if (conversation.history === action.history) unchanged();
      return {
        body: body('history.changed', [], { history: action.history }),
        history: action.history,
      };
    case 'avatar':
      atLeast(actor, 'admin');
      if (conversation.avatar === action.avatar) unchanged();
      return {
        body: body('avatar.changed', [], { avatar: action.avatar }),
        avatar: action.avatar,
      };
    case 'dismiss':
      atLeast(actor, 'owner');
      return { body: body('dismissed', []), dismiss: true };
  }
}

/**
 * Joining with an invite code: the code must be the group's current one (checked under the
 * lock, so a revocation that committed first wins), the group live, the user not a member yet,
 * and there must be room. A former member comes back like any new member.
 */
function planJoin(
  state: GroupState,
  code: string,
  actorId: string,
  membersMax: number,
  body: BodyOf,
): GroupPlan {
  const { conversation } = state;
  if (conversation.kind !== 'group' || state.inviteCode === null || state.inviteCode !== code) {
    throw new ParleyError('invite_not_found');
  }
  if (conversation.dismissedAtMs !== null) throw new ParleyError('group_dismissed');
  if (state.actor) throw new ParleyError('already_member');
  if (state.memberCount + 1 > membersMax) throw new ParleyError('too_many_members');
  return { body: body('member.joined', [actorId]), join: [actorId] };
}

/**
 * Anyone may leave. The owner of a live group must transfer first, unless it is the last member:
 * then leaving dismisses the group. In a dismissed group the owner leaves like anyone else.
 */
function planLeave(state: GroupState, actor: Member, body: BodyOf): GroupPlan {
  const live = state.conversation.dismissedAtMs === null;
  if (actor.role === 'owner' && live) {
    if (state.memberCount > 1) throw new ParleyError('owner_must_transfer');
    return {
      body: body('member.left', [actor.userId], { dismissed: true }),
      leave: [actor.userId],
      dismiss: true,
    };
  }
  return { body: body('member.left', [actor.userId]), leave: [actor.userId] };
}
