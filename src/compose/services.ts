import type { Config } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import { MemoryBudgetStore, type BudgetStore } from '../core/budget-store.js';
import { UserBudget } from '../core/user-budget.js';
import { AttachmentsService, memberWindowOf, type BlobStore } from '../attachments/index.js';
import { AuthService, LoginThrottle, UserDirectory } from '../auth/index.js';
import { RedisBudgetStore } from '../bus/index.js';
import { BlockGuard, BlockPresence, ContactsService } from '../contacts/index.js';
import { DeliveryRouter } from '../delivery/index.js';
import { GroupCommitter, createMessaging, type Messaging } from '../messaging/index.js';
import type { ParleyMetrics } from '../observability/index.js';
import type { OutboundClient } from '../outbound/index.js';
import { PushNotifier } from '../push/index.js';
import { ProfilePush, UsersService, profileAudience } from '../users/index.js';
import type { Cluster } from './cluster.js';
import type { Stores } from './stores.js';

// The capabilities of a full node, built over its stores and told about each other: who
// subscribes to whose events, and which steps an account deletion runs. Nothing here listens
// on a port (edges.ts does).

/** How long a cluster node trusts a cached member list (see createMessaging's memberCache). */
const CLUSTER_MEMBERS_TTL_MS = 30_000;

export interface ServiceInputs {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: ParleyMetrics;
  readonly stores: Stores;
  readonly cluster: Cluster | null;
  readonly blobs: BlobStore;
  readonly pushOutbound: OutboundClient;
}

export interface Services {
  /** Throttles and per-user budgets: on a cluster, shared by every node through Redis. */
  readonly budgets: BudgetStore;
  readonly users: UserDirectory;
  readonly auth: AuthService;
  readonly attachments: AttachmentsService;
  readonly committer: GroupCommitter;
  readonly messaging: Messaging;
  readonly contacts: ContactsService;
  readonly profiles: UsersService;
  readonly profilePush: ProfilePush;
  readonly router: DeliveryRouter;
  readonly pushes: PushNotifier;
}

/** Builds the capabilities (nothing to close yet: the caller registers what needs closing). */
export function composeServices(inputs: ServiceInputs): Services {
  const { config, log, stores, cluster } = inputs;
  const budgets: BudgetStore = cluster
    ? new RedisBudgetStore(cluster.redis, log)
    : new MemoryBudgetStore();
  const users = new UserDirectory(stores.auth.users);
  const { attachments, auth } = composeAccounts(inputs, budgets);
  const { committer, messaging, contacts } = composeMessaging(inputs, budgets, users, attachments);
  const profiles = new UsersService({
    store: stores.profiles,
    limits: config.limits,
    checkAvatar: (userId, attachmentId) => attachments.checkAvatar(userId, attachmentId),
  });
  const { router, pushes, profilePush } = composeDelivery(inputs, messaging, contacts);
  const services = {
    budgets,
    users,
    auth,
    attachments,
    committer,
    messaging,
    contacts,
    profiles,
    profilePush,
    router,
    pushes,
  };
  wireServices(services, log);
  return services;
}

/** Accounts and what they own: sessions and login throttling, and attachments. */
function composeAccounts(inputs: ServiceInputs, budgets: BudgetStore) {
  const { config, stores } = inputs;
  const limits = config.limits;
  const attachments = new AttachmentsService({
    store: stores.attachments,
    blobs: inputs.blobs,
    // Members read what was sent within their window, as for messages: former members up to
    // their leaving, late joiners of a history-from-join group from their join.
    memberWindowUs: memberWindowOf(stores.messages),
    isProfileAvatar: async (ownerId, attachmentId) =>
      (await stores.profiles.get(ownerId))?.avatar === attachmentId,
    bytesMax: limits.attachmentBytesMax,
    types: config.attachments.types,
  });
  const auth = new AuthService(stores.auth, {
    sessionIdleMs: limits.sessionIdleMs,
    throttle: new LoginThrottle(budgets, {
      sourceBurst: limits.loginSourceFailuresMax,
      addressBurst: limits.loginAddressFailuresMax,
      userBurst: limits.loginUserFailuresMax,
      refillMs: limits.loginRefillMs,
    }),
    knownSources: {
      addressesMax: limits.loginKnownAddressesMax,
      devicesMax: limits.loginKnownDevicesMax,
      idleMs: limits.loginKnownSourceIdleMs,
    },
  });
  return { attachments, auth };
}

/** Messaging (over group commit) and contacts, which share the block guard and one budget. */
function composeMessaging(
  inputs: ServiceInputs,
  budgets: BudgetStore,
  users: UserDirectory,
  attachments: AttachmentsService,
) {
  const { config, log, metrics, stores, cluster } = inputs;
  const limits = config.limits;
  // The SQLite append thread commits batches strictly in order, so later batches can be handed
  // over while one is written (group-commit.ts); every other store takes one batch at a time.
  // Four in flight measured best on the direct bench (2: 0.42-0.44 of the relay, 4: 0.46-0.49).
  const pipeline = config.store.kind === 'sqlite' && config.store.appendThread ? 4 : 1;
  const committer = new GroupCommitter(stores.messages.log, limits.commitBatchMax, metrics, {
    pipeline,
  });
  // Block answers are cached on a single node only: another node's block could not reach them.
  const blockGuard = new BlockGuard(stores.contacts, { cache: cluster === null });
  // New direct conversations and contact requests share one budget per user.
  const firstContacts = new UserBudget(budgets, {
    name: 'first-contacts',
    burst: limits.firstContactsBurstMax,
    refillMs: limits.firstContactsRefillMs,
    refusal: 'Too many new conversations and contact requests; try again later.',
  });
  const messaging = createMessaging({
    firstContacts,
    store: stores.messages,
    committer,
    users,
    limits,
    directGuard: blockGuard,
    // A message may only name an attachment its sender may use; recording the use lets the
    // conversation's members download it. Asked inside the committer's vetter, before the commit.
    attachmentUse: (attachmentId, conversationId, senderId) =>
      attachments.recordUse(attachmentId, conversationId, senderId),
    // In a cluster, membership changes reach this node over the bus, which may lose one: a
    // cached member list is reloaded after this long, so a lost invalidation heals by itself.
    memberCache: {
      ...(cluster ? { ttlMs: CLUSTER_MEMBERS_TTL_MS } : {}),
      onLoadError: (err, conversationId) =>
        log.warn({ err, conversationId }, 'member list load failed; pushes dropped'),
    },
  });
  const contacts = new ContactsService({
    store: stores.contacts,
    users,
    limits,
    guard: blockGuard,
    firstContacts,
  });
  return { committer, messaging, contacts };
}

/** Pushing to live sessions (the router), to offline devices, and profile changes. */
function composeDelivery(inputs: ServiceInputs, messaging: Messaging, contacts: ContactsService) {
  const { config, log, metrics, stores, cluster } = inputs;
  const limits = config.limits;
  const router = new DeliveryRouter({
    members: messaging.membership,
    limits,
    logger: log,
    metrics,
    ...(cluster ? { cluster: cluster.deps } : {}),
  });
  // Push notifications for offline users (docs/push.md): only when the operator named gateways.
  const pushes = new PushNotifier({
    store: stores.pushers,
    outbound: inputs.pushOutbound,
    membersOf: (id, fn) => messaging.membership.withMembers(id, fn),
    online: (userIds) => router.online(userIds),
    logger: log,
    metrics,
    refreshMs: config.push.refreshMs,
  });
  const profilePush = new ProfilePush({
    audience: profileAudience({
      sharedWith: (userId) => messaging.conversations.sharedWith(userId),
      contactIds: (userId) => contacts.contactIds(userId),
    }),
    deliver: (userIds, frame) => router.deliver(userIds, frame),
    onError: (err) => log.warn({ err }, 'profile push failed'),
    burst: limits.profilePushBurstMax,
    refillMs: limits.profilePushRefillMs,
  });
  return { router, pushes, profilePush };
}

/** Who hears whose events, and the steps of deleting an account, in the order they must run. */
function wireServices(s: Services, log: Logger): void {
  const { messaging, router, contacts } = s;
  messaging.events.subscribe(router);
  messaging.events.subscribeActions(router);
  contacts.subscribe({ contactChanged: (userIds, frame) => router.deliver(userIds, frame) });
  // Presence stops at a block and comes back at the unblock (docs/contacts.md); two users who
  // open a direct conversation learn of each other at once (docs/protocol.md#presence).
  const pairPresence = new BlockPresence({
    online: (userIds) => router.online(userIds),
    deliver: (userIds, frame) => router.deliver(userIds, frame),
    peers: (userId) => messaging.conversations.peers(userId),
    onError: (err) => log.warn({ err }, 'presence after a block, unblock or new chat failed'),
  });
  contacts.subscribe(pairPresence);
  messaging.events.onDirectOpened((_id, [a, b]) => pairPresence.introduce(a, b));
  s.profiles.subscribe(s.profilePush);
  s.auth.onRevoked((userId, device) => router.revoke(userId, device));
}

/**
 * Deleting an account (DELETE /v1/me): groups handed over first (a check), then left; contacts
 * ended; push tokens removed; the deletion pushed to everyone who showed the profile before. The
 * profile step reads that audience first, so it is registered before the others. Called after
 * the event feed registers its own step (the `user.deleted` event goes out first).
 */
export function registerDeletionSteps(s: Services): void {
  const { messaging, contacts } = s;
  s.auth.onDeletion(s.profilePush.deletionStep());
  s.auth.onDeletion(messaging.groups.deletionStep());
  s.auth.onDeletion(contacts.deletionStep());
  s.auth.onDeletion(s.pushes.deletionStep());
}
