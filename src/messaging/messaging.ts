import type { UserBudget } from '../core/user-budget.js';
import type { Limits } from '../core/limits.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { UserDirectory } from '../auth/index.js';
import { ConversationService } from './conversation-service.js';
import type { DirectGuard } from './direct-guard.js';
import { MessagingHub } from './events.js';
import type { GroupCommitter } from './group-commit.js';
import { GroupService } from './group-service.js';
import { Membership, type MemberCacheOptions } from './membership.js';
import { MessageService } from './message-service.js';
import type { AttachmentUse } from './model.js';
import type { MessageStores } from './store/index.js';
import { SyncService } from './sync-service.js';

export interface MessagingDeps {
  readonly store: MessageStores;
  readonly committer: GroupCommitter;
  readonly users: UserDirectory;
  readonly limits: Limits;
  readonly clock?: Clock;
  /** Asked before opening or sending in a direct conversation (blocks, from contacts). */
  readonly directGuard?: DirectGuard;
  /** See AttachmentUse. Without it, attachment kinds are refused. */
  readonly attachmentUse?: AttachmentUse;
  /**
   * Spent when a user opens a direct conversation that did not exist yet (not by reopening one,
   * nor by trusted backends over gRPC): the bound on reaching strangers.
   */
  readonly firstContacts?: UserBudget;
  /** How the one member cache is kept (a cluster reloads lists after a TTL). */
  readonly memberCache?: MemberCacheOptions;
}

/**
 * The messaging capability, as every edge (REST, seed API, real time, gRPC) uses it: one service
 * per job, and the hub their events go out through. The services share the one Membership (its
 * guards and its cache) and never call each other.
 */
export interface Messaging {
  readonly messages: MessageService;
  readonly conversations: ConversationService;
  readonly groups: GroupService;
  readonly sync: SyncService;
  readonly events: MessagingHub;
  /** The one member cache: the delivery router fans out through it and invalidates it. */
  readonly membership: Membership;
}

/** Builds the messaging services over one set of store ports. */
export function createMessaging(deps: MessagingDeps): Messaging {
  const clock = deps.clock ?? systemClock;
  const { store, limits, users } = deps;
  const events = new MessagingHub();
  const membership = new Membership(store, deps.directGuard, deps.memberCache);
  const attachmentUse = deps.attachmentUse;
  return {
    messages: new MessageService({
      store,
      committer: deps.committer,
      events,
      membership,
      limits,
      clock,
      attachmentUse,
    }),
    conversations: new ConversationService({
      store,
      events,
      membership,
      users,
      limits,
      clock,
      guard: deps.directGuard,
      firstContacts: deps.firstContacts,
    }),
    groups: new GroupService({ store, events, membership, users, limits, attachmentUse }),
    sync: new SyncService({ store, limits, clock }),
    events,
    membership,
  };
}
