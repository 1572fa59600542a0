import { parseArgs } from 'node:util';
import {
  ConfigError,
  describeSettings,
  loadConfig,
  SETTINGS,
  type Config,
} from './config/index.js';
import { createLogger, type Logger } from './core/logger.js';
import {
  AuthService,
  LoginThrottle,
  SessionWatch,
  UserDirectory,
  registerAuthRoutes,
} from './auth/index.js';
import {
  BlockGuard,
  BlockPresence,
  ContactsService,
  registerContactRoutes,
} from './contacts/index.js';
import { ProfilePush, UsersService, profileView, registerUserRoutes } from './users/index.js';
import { PushNotifier, registerPushRoutes } from './push/index.js';
import { AllowList, OutboundClient } from './outbound/index.js';
import { registerExportRoutes } from './export/index.js';
import { UserBudget } from './core/user-budget.js';
import { RequestSlots } from './core/request-slots.js';
import { ParleyError } from './core/errors.js';
import {
  GroupCommitter,
  createMessaging,
  type Messaging,
  registerMessagingRoutes,
  SendBudget,
  registerGroupRoutes,
} from './messaging/index.js';
import { SeedApi, SeedForwarder, imServiceHandlers, registerSeedRoutes } from './seed/index.js';
import { createHttpApp, registerApiDocs, type HttpApp } from './server/index.js';
import { registerWebClient } from './server/web-client.js';
import {
  AttachmentsService,
  memberWindowOf,
  registerAttachmentRoutes,
  type BlobStore,
} from './attachments/index.js';
import { FsBlobStore } from './attachments/fs-blob-store.js';
import { S3BlobStore } from './attachments/s3-blob-store.js';
import { DeliveryRouter, NodeWatch } from './delivery/index.js';
import {
  Gateway,
  attachWsTransport,
  listenTcpTransport,
  type TcpListener,
} from './gateway/index.js';
import { createProtoCodec, jsonCodec } from './protocol/index.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openSqliteStores, type SqliteStores } from './storage/sqlite/index.js';
import { MemoryBudgetStore, type BudgetStore } from './core/budget-store.js';
import { RedisBudgetStore } from './bus/redis-budget-store.js';
import { openPostgresStores, type PostgresStores } from './storage/postgres/index.js';
import {
  RedisBus,
  closeRedis,
  openRedis,
  whenReady,
  type BusMessage,
  type RedisConnection,
  type RedisTarget,
} from './bus/index.js';
import { RedisPresence, type ClusterDeps } from './delivery/index.js';
import { Cluster as RedisCluster } from 'ioredis';
import { EventPublisher, RedisStreamSink, WebhookSink, type EventSink } from './events/index.js';
import { systemClock } from './core/clock.js';
import {
  Health,
  MeteredBus,
  ParleyMetrics,
  registerOperationsRoutes,
  type ReadinessCheck,
} from './observability/index.js';
import { RpcClient, parleyServiceHandlers, startRpcServer, type RpcListener } from './rpc/index.js';

// The composition root: the only file that picks backends and wires capabilities together.

/** How long a cluster node trusts a cached member list (see createMessaging's memberCache). */
const CLUSTER_MEMBERS_TTL_MS = 30_000;

/** The Protobuf schema, one directory up from both src/ and dist/. */
const PROTO_FILE = new URL('../proto/parley.proto', import.meta.url);
/** The built web client (`npm run build:web`), likewise; docs/web-client.md. */
const WEB_DIR = fileURLToPath(new URL('../web/dist/', import.meta.url));

export interface RunningParley {
  readonly url: string;
  readonly port: number;
  /** The real-time protocol over WebSocket ('' on a `--role http` node, which has none). */
  readonly wsUrl: string;
  /** The TCP transport's port, or null when it is off. */
  readonly tcpPort: number | null;
  /** The gRPC port (docs/rpc.md), or null when it is off. */
  readonly grpcPort: number | null;
  readonly config: Config;
  /** From now on /readyz answers 503 (close() starts with it). */
  drain(): void;
  /** Stops accepting, lets in-flight requests and commits finish, then closes the store. */
  close(): Promise<void>;
}

export async function startParley(config: Config, logger?: Logger): Promise<RunningParley> {
  const log = logger ?? createLogger(config.log.level, config.node.id);
  if (config.role.kind === 'http') return startHttpRole(config, config.role, log);
  const metrics = new ParleyMetrics({ nodeId: config.node.id });
  // Built before anything opens: a bad entry stops the start with nothing to clean up.
  // Registration and sending check pusher URLs against this one list (src/outbound/).
  const pushOutbound = outboundClient(config, config.push.gateways, 'PARLEY_PUSH_GATEWAYS');
  const webhookOutbound = outboundClient(config, config.events.webhookUrls, 'PARLEY_WEBHOOK_URLS');
  const stores = await openStores(config, log);
  if ('searchBacklog' in stores) {
    const sqlite = stores;
    metrics.gaugeFrom(
      'parley_search_backlog',
      'Messages stored but not yet in the search index (SQLite).',
      () => sqlite.searchBacklog(),
    );
  }
  let cluster: Cluster | null;
  try {
    cluster = config.redis ? await openCluster(config, config.redis, log, metrics) : null;
  } catch (err) {
    await stores.close();
    throw err;
  }
  let blobs: BlobStore;
  try {
    blobs = await openBlobStore(config.attachments.blobStore);
  } catch (err) {
    await cluster?.close();
    await stores.close();
    throw err;
  }
  const users = new UserDirectory(stores.auth);
  const attachments: AttachmentsService = new AttachmentsService({
    store: stores.attachments,
    blobs,
    // Members read what was sent within their window, as for messages: former members up to
    // their leaving, late joiners of a history-from-join group from their join.
    memberWindowUs: memberWindowOf(stores.messages),
    isProfileAvatar: async (ownerId, attachmentId) =>
      (await stores.profiles.get(ownerId))?.avatar === attachmentId,
    bytesMax: config.limits.attachmentBytesMax,
    types: config.attachments.types,
  });
  // Throttles and per-user budgets: on a cluster, shared by every node through Redis.
  const budgets: BudgetStore = cluster
    ? new RedisBudgetStore(cluster.redis, log)
    : new MemoryBudgetStore();
  const auth = new AuthService(stores.auth, {
    sessionIdleMs: config.limits.sessionIdleMs,
    throttle: new LoginThrottle(budgets, {
      sourceBurst: config.limits.loginSourceFailuresMax,
      addressBurst: config.limits.loginAddressFailuresMax,
      userBurst: config.limits.loginUserFailuresMax,
      refillMs: config.limits.loginRefillMs,
    }),
    knownSources: {
      addressesMax: config.limits.loginKnownAddressesMax,
      devicesMax: config.limits.loginKnownDevicesMax,
      idleMs: config.limits.loginKnownSourceIdleMs,
    },
  });
  // The SQLite append thread commits batches strictly in order, so later batches can be handed
  // over while one is written (group-commit.ts); every other store takes one batch at a time.
  // Four in flight measured best on the direct bench (2: 0.42-0.44 of the relay, 4: 0.46-0.49).
  const pipeline = config.store.kind === 'sqlite' && config.store.appendThread ? 4 : 1;
  const committer = new GroupCommitter(stores.messages.log, config.limits.commitBatchMax, metrics, {
    pipeline,
  });
  // Block answers are cached on a single node only: another node's block could not reach them.
  const blockGuard = new BlockGuard(stores.contacts, { cache: cluster === null });
  // New direct conversations and contact requests share one budget per user.
  const firstContacts = new UserBudget(budgets, {
    name: 'first-contacts',
    burst: config.limits.firstContactsBurstMax,
    refillMs: config.limits.firstContactsRefillMs,
    refusal: 'Too many new conversations and contact requests; try again later.',
  });
  const messaging = createMessaging({
    firstContacts,
    store: stores.messages,
    committer,
    users,
    limits: config.limits,
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
    limits: config.limits,
    guard: blockGuard,
    firstContacts,
  });
  const profiles = new UsersService({
    store: stores.profiles,
    limits: config.limits,
    checkAvatar: (userId, attachmentId) => attachments.checkAvatar(userId, attachmentId),
  });
  const router = new DeliveryRouter({
    members: messaging.membership,
    limits: config.limits,
    logger: log,
    metrics,
    ...(cluster ? { cluster: cluster.deps } : {}),
  });
  // Push notifications for offline users (docs/push.md): only when the operator named gateways.
  const pushes = new PushNotifier({
    store: stores.pushers,
    outbound: pushOutbound,
    membersOf: (id, fn) => messaging.membership.withMembers(id, fn),
    online: (userIds) => router.online(userIds),
    logger: log,
    metrics,
    refreshMs: config.push.refreshMs,
  });
  const seed = new SeedApi({
    mode: config.http.seedApi,
    messaging,
    users,
    limits: config.limits,
    cachePages: cluster === null,
  });
  const authenticate = (token: string | undefined) => auth.authenticate(token);

  const app = createHttpApp({
    bodyBytesMax: config.limits.httpBodyBytesMax,
    logger: log,
    trustProxy: config.http.trustProxy,
  });
  await registerApiDocs(app);
  const readiness: ReadinessCheck[] = [
    // A one-row index probe: proves the store answers queries, whichever backend it is.
    { name: 'store', probe: () => stores.auth.findUserByUsername('') },
  ];
  const redis = cluster?.redis;
  if (redis) readiness.push({ name: 'bus', probe: () => redis.ping() });
  const health = new Health({ checks: readiness, logger: log });
  registerOperationsRoutes(app, { metrics, health });
  registerAuthRoutes(app, auth);
  const sendBudget = new SendBudget(budgets, {
    ratePerSec: config.limits.sendRatePerSec,
    burstMax: config.limits.sendBurstMax,
  });
  // Heavy reads per user on this node, over HTTP and the real-time gateway alike.
  const reads = new RequestSlots(
    config.limits.userRequestsInFlightMax,
    config.limits.userRequestsQueuedMax,
  );
  registerMessagingRoutes(app, {
    messaging,
    users,
    authenticate,
    sendBudget,
    reads,
    searchBudget: new UserBudget(budgets, {
      name: 'search',
      burst: config.limits.searchBurstMax,
      refillMs: config.limits.searchRefillMs,
      refusal: 'Too many searches; slow down.',
    }),
  });
  registerGroupRoutes(app, { messaging, authenticate });
  registerAttachmentRoutes(app, { attachments, authenticate });
  registerContactRoutes(app, { contacts, authenticate });
  registerUserRoutes(app, { users: profiles, authenticate });
  registerExportRoutes(app, {
    data: {
      account: async (userId) => {
        const [user] = await stores.auth.getUsers([userId]);
        if (!user) throw new ParleyError('user_not_found');
        return user;
      },
      profile: async (username) => {
        const found = await stores.profiles.getByUsername(username);
        return found ? profileView(found) : null;
      },
      devices: (userId) => stores.auth.listSessions(userId),
      contacts: (userId, username, kind, after, limit) =>
        contacts.list({ userId, username }, kind, { after, limit }),
      conversations: (userId) => stores.messages.inbox.listConversations(userId),
      sentBy: (userId, after, limit) => stores.messages.log.sentBy(userId, after, limit),
      nowMs: () => Date.now(),
    },
    budget: new UserBudget(budgets, {
      name: 'export',
      burst: 3,
      refillMs: 20 * 60_000,
      refusal: 'Too many exports; try again later.',
    }),
    authenticate,
  });
  registerPushRoutes(app, {
    store: stores.pushers,
    notifier: pushes,
    gateways: pushOutbound.allow,
    authenticate,
  });
  registerSeedRoutes(app, {
    seed,
    mode: config.http.seedApi,
    authenticate,
    bodyBytesMax: config.limits.httpBodyBytesMax,
    reads,
  });
  await registerWebClient(app, { dir: WEB_DIR });

  messaging.events.subscribe(router);
  messaging.events.subscribeActions(router);
  messaging.events.subscribeActions(seed.pageActionEvents);
  contacts.subscribe({ contactChanged: (userIds, frame) => router.deliver(userIds, frame) });
  // Presence stops at a block and comes back at the unblock (docs/contacts.md).
  contacts.subscribe(
    new BlockPresence({
      online: (userIds) => router.online(userIds),
      deliver: (userIds, frame) => router.deliver(userIds, frame),
      peers: (userId) => messaging.conversations.peers(userId),
      onError: (err) => log.warn({ err }, 'presence after a block or unblock failed'),
    }),
  );
  /** Who shows a user's profile: itself, everyone sharing a conversation with it, its contacts. */
  const profileAudience = async (userId: string): Promise<string[]> => [
    ...new Set([
      userId,
      ...(await stores.messages.members.sharedWith(userId)),
      ...(await contacts.contactIds(userId)),
    ]),
  ];
  const profilePush = new ProfilePush({
    audience: profileAudience,
    deliver: (userIds, frame) => router.deliver(userIds, frame),
    onError: (err) => log.warn({ err }, 'profile push failed'),
    burst: config.limits.profilePushBurstMax,
    refillMs: config.limits.profilePushRefillMs,
  });
  profiles.subscribe(profilePush);
  messaging.events.subscribe(seed.pageEvents);
  if (config.push.gateways.length > 0) {
    await pushes.start();
    messaging.events.subscribe(pushes);
  }
  const sinks = eventSinks(config, cluster, log, webhookOutbound);
  const webhookSink = sinks.find((s): s is WebhookSink => s instanceof WebhookSink);
  if (webhookSink) {
    const { stats } = webhookSink;
    metrics.countersFrom(
      'parley_webhook_events_total',
      'Webhook deliveries by outcome: delivered, failed (one attempt), given_up, dropped.',
      'result',
      () => ({
        delivered: stats.delivered,
        failed: stats.failedAttempts,
        given_up: stats.gaveUp,
        dropped: stats.dropped,
      }),
    );
  }
  const events = new EventPublisher({ sinks, node: config.node.id, clock: systemClock });
  // Without a sink (a single node with no webhook) every event would be built for nobody.
  if (sinks.length > 0) {
    messaging.events.subscribe(events);
    messaging.events.subscribeActions(events);
    profiles.subscribe(events);
    auth.onDeletion({ deleted: (account) => events.accountDeleted(account) });
  }
  let presenceTimer: NodeJS.Timeout | null = null;
  if (cluster) {
    try {
      await cluster.deps.bus.subscribe(config.node.id, (message: BusMessage) =>
        router.onBus(message),
      );
    } catch (err) {
      await events.close();
      await cluster.close();
      await stores.close();
      await blobs.close();
      throw err;
    }
    // Live nodes re-arm their sessions' presence; a dead node's entries expire by themselves,
    // and the node watch has one live node announce its users offline (node-watch.ts).
    const watch = cluster.watch;
    const beat = () => {
      router
        .refreshPresence()
        .catch((err: unknown) => log.warn({ err }, 'presence refresh failed'));
      watchNodes(watch, router, messaging).catch((err: unknown) =>
        log.warn({ err }, 'node watch failed; the next beat retries'),
      );
    };
    beat();
    presenceTimer = setInterval(beat, cluster.presenceRefreshMs);
    presenceTimer.unref();
  }
  auth.onRevoked((userId, device) => router.revoke(userId, device));
  // Deleting an account (DELETE /v1/me): groups handed over first, then left; contacts ended;
  // the deletion pushed (a `profile` frame with `deleted`) to everyone who showed the profile
  // before (read before the groups and contacts end).
  const shownTo = new Map<string, readonly string[]>();
  auth.onDeletion({
    check: async (account) => {
      const titles = await messaging.groups.groupsToHandOver(account.userId);
      if (titles.length === 0) return;
      const shown = titles.slice(0, 5).map((t) => `"${t}"`);
      throw new ParleyError(
        'owner_must_transfer',
        `Transfer the groups you own first: ${shown.join(', ')}${titles.length > 5 ? ', …' : ''}.`,
      );
    },
    cleanup: async (account) => {
      shownTo.set(account.userId, await profileAudience(account.userId));
      await messaging.groups.leaveAll({ userId: account.userId, device: account.device });
      await contacts.endAllRelations({ userId: account.userId, username: account.username });
      // Its devices' push tokens are personal data too.
      await stores.pushers.removeAll(account.userId);
    },
    deleted: (account) => {
      // Direct messages to it are refused from now on (account_deleted): no cached "may" stays.
      blockGuard.forgetAll();
      profilePush.accountDeleted(account, shownTo.get(account.userId) ?? [account.userId]);
      shownTo.delete(account.userId);
    },
  });
  const gateway = new Gateway({
    authenticate: (token) => auth.authenticate(token),
    linkClosed: (userId, device, livedMs) => auth.linkClosed(userId, device, livedMs),
    messaging,
    router,
    limits: config.limits,
    logger: log,
    nodeId: config.node.id,
    metrics,
    reads,
  });
  // Every way a session ends, in any process, closes the links using it (docs/security.md).
  const sessionWatch = new SessionWatch({
    store: stores.sessionEnds,
    ended: (hashes) => gateway.sessionsEnded(hashes),
    logger: log,
    pollMs: config.limits.sessionWatchIntervalMs,
  });
  sessionWatch.start();
  const codecs = { json: jsonCodec, proto: createProtoCodec(readFileSync(PROTO_FILE, 'utf8')) };
  const accept = gateway.accept.bind(gateway);
  const closeWs = attachWsTransport({
    server: app.server,
    path: '/ws',
    frameBytesMax: config.limits.frameBytesMax,
    codecs,
    accept,
  });

  let tcp: TcpListener | null = null;
  let rpc: RpcListener | null = null;
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
    if (config.grpc) {
      rpc = await startRpcServer({
        ...config.grpc,
        logger: log,
        messageBytesMax: config.limits.httpBodyBytesMax,
        onCall: (method, code) => metrics.rpcCall(method, code),
        im: imServiceHandlers({ seed, mode: config.http.seedApi, authenticate }),
        parley: parleyServiceHandlers({ messaging, users, auth, router }),
      });
    }
    if (config.tcp) {
      tcp = await listenTcpTransport({
        ...config.tcp,
        frameBytesMax: config.limits.frameBytesMax,
        codec: codecs.proto,
        accept,
      });
    }
  } catch (err) {
    sessionWatch.stop();
    await gateway.close();
    await closeWs();
    await tcp?.close();
    await app.close();
    if (presenceTimer) clearInterval(presenceTimer);
    profilePush.close();
    pushes.stop();
    pushOutbound.close();
    await events.close();
    await cluster?.close();
    await stores.close();
    await blobs.close();
    throw err;
  }
  const { port, url } = listeningUrl(app, config);
  const wsUrl = url.replace(/^http/, 'ws') + '/ws';
  const tcpPort = tcp?.port ?? null;
  const grpcPort = rpc?.port ?? null;
  log.info(
    {
      port,
      url,
      tcpPort,
      grpcPort,
      store: config.store.kind,
      cluster: cluster !== null,
      seedApi: config.http.seedApi,
    },
    'parley listening',
  );

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    wsUrl,
    tcpPort,
    grpcPort,
    config,
    drain: () => health.drain(),
    close: () =>
      (closing ??= (async () => {
        // Not ready first, so that load balancers stop sending (docs/operations.md). Then
        // clients are told to reconnect elsewhere (1012) before the listeners stop; their
        // presence is cleared while Redis is still there; in-flight commits finish last.
        health.drain();
        if (config.drainDelayMs > 0) await sleep(config.drainDelayMs);
        sessionWatch.stop();
        await gateway.close();
        await closeWs();
        await tcp?.close();
        await app.close();
        await rpc?.close();
        await committer.flush();
        if (presenceTimer) clearInterval(presenceTimer);
        profilePush.close();
        pushes.stop();
        pushOutbound.close();
        await events.close();
        await cluster?.close();
        await stores.close();
        await blobs.close();
        log.info('parley stopped');
      })()),
  };
}

/** The port the HTTP server got and a URL to reach it from this machine. */
function listeningUrl(app: HttpApp, config: Config): { port: number; url: string } {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host =
    config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  return { port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `--role http` (docs/rpc.md): a node with no store of its own that serves the seed HTTP API
 * (plus /metrics, /healthz, /readyz and the API documentation) and forwards each request to
 * another node's IMService, as the seeds split their HTTP server from their RPC server.
 */
async function startHttpRole(
  config: Config,
  role: Extract<Config['role'], { kind: 'http' }>,
  log: Logger,
): Promise<RunningParley> {
  const metrics = new ParleyMetrics({ nodeId: config.node.id });
  const client = new RpcClient({ target: role.rpcTarget, token: role.token, logger: log });
  const forwarder = new SeedForwarder(client);
  const health = new Health({
    checks: [{ name: 'rpc', probe: () => client.waitForReady(1_500) }],
    logger: log,
  });
  const app = createHttpApp({
    bodyBytesMax: config.limits.httpBodyBytesMax,
    logger: log,
    trustProxy: config.http.trustProxy,
  });
  await registerApiDocs(app);
  registerOperationsRoutes(app, { metrics, health });
  registerSeedRoutes(app, {
    seed: forwarder,
    mode: config.http.seedApi,
    authenticate: forwarder.authenticate,
    bodyBytesMax: config.limits.httpBodyBytesMax,
  });
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await app.close();
    client.close();
    throw err;
  }
  const { port, url } = listeningUrl(app, config);
  log.info({ port, url, role: 'http', rpcTarget: role.rpcTarget }, 'parley listening');
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    wsUrl: '',
    tcpPort: null,
    grpcPort: null,
    config,
    drain: () => health.drain(),
    close: () =>
      (closing ??= (async () => {
        health.drain();
        if (config.drainDelayMs > 0) await sleep(config.drainDelayMs);
        await app.close();
        client.close();
        log.info('parley stopped');
      })()),
  };
}

function openStores(config: Config, log: Logger): Promise<SqliteStores | PostgresStores> {
  const store = config.store;
  switch (store.kind) {
    case 'sqlite':
      return openSqliteStores({
        file: store.file,
        synchronous: store.synchronous,
        appendThread: store.appendThread,
        onCheckpointError: (message) => log.warn({ error: message }, 'WAL checkpoint failed'),
        onAppendThreadError: (message) =>
          log.error({ error: message }, 'append thread failed; appending on the event loop'),
        onSearchIndexError: (message) => log.warn({ error: message }, 'search indexing failed'),
      });
    case 'postgres':
      return openPostgresStores({
        url: store.url,
        poolMax: store.poolMax,
        onIdleError: (err) => log.warn({ err }, 'idle PostgreSQL connection failed'),
      });
  }
}

function openBlobStore(blobStore: Config['attachments']['blobStore']): Promise<BlobStore> {
  switch (blobStore.kind) {
    case 'fs':
      return FsBlobStore.open(blobStore.dir);
    case 's3':
      return Promise.resolve(
        new S3BlobStore({
          region: blobStore.region,
          bucket: blobStore.bucket,
          forcePathStyle: blobStore.forcePathStyle,
          ...(blobStore.endpoint !== null && { endpoint: blobStore.endpoint }),
          ...(blobStore.credentials && { credentials: blobStore.credentials }),
        }),
      );
  }
}

interface Cluster {
  readonly deps: ClusterDeps;
  /** For the event stream. */
  readonly redis: RedisConnection;
  readonly presenceRefreshMs: number;
  readonly watch: NodeWatch;
  close(): Promise<void>;
}

/**
 * One beat of the node watch: this node is alive with its users; the users of nodes that died
 * are announced offline to their peers, unless they are online elsewhere by now.
 */
async function watchNodes(
  watch: NodeWatch,
  router: DeliveryRouter,
  messaging: Messaging,
): Promise<void> {
  await watch.beat(new Set([...router.localSessions()].map((s) => s.userId)));
  const gone = await watch.reap();
  if (gone.length === 0) return;
  const online = await router.online(gone);
  for (const user of gone) {
    if (online.has(user)) continue;
    const peers = await messaging.conversations.peers(user);
    router.deliver(peers, { type: 'presence', user, online: false });
  }
}

/** Redis for the bus, presence and event stream: what makes identical nodes one cluster. */
async function openCluster(
  config: Config,
  redis: NonNullable<Config['redis']>,
  log: Logger,
  metrics: ParleyMetrics,
): Promise<Cluster> {
  const target = redis.cluster ? clusterTemplate(redis.url) : redis.url;
  const bus = new MeteredBus(
    new RedisBus({
      redis: target,
      logger: log,
      ...(redis.cluster ? { sharded: true } : {}),
    }),
    metrics,
  );
  let presence: RedisPresence;
  try {
    presence = await RedisPresence.open({ redis: target, ttlMs: redis.presenceTtlMs, logger: log });
  } catch (err) {
    await bus.close();
    throw err;
  }
  const events = openRedis(target, { role: 'events', offlineQueue: false, logger: log });
  // Without an offline queue a lazy connection refuses its first command: open it now (bounded).
  await Promise.race([
    whenReady(events),
    new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
  ]);
  const presenceRefreshMs = Math.max(1000, Math.floor(redis.presenceTtlMs / 3));
  const watch = new NodeWatch({
    redis: events,
    nodeId: config.node.id,
    ttlMs: redis.presenceTtlMs,
    beatIntervalMs: presenceRefreshMs,
    logger: log,
  });
  return {
    deps: {
      nodeId: config.node.id,
      bus,
      presence,
      broadcastMembersMin: redis.broadcastMembersMin,
    },
    redis: events,
    presenceRefreshMs,
    watch,
    close: async () => {
      // Sessions are closed by now: nothing of this node is left for a reaper.
      await watch.leave().catch((err: unknown) => log.warn({ err }, 'node watch leave failed'));
      await bus.close();
      await presence.close();
      await closeRedis(events);
    },
  };
}

/** An ioredis Cluster to copy connections from; it never connects itself (see RedisTarget). */
function clusterTemplate(url: string): RedisTarget {
  const u = new URL(url);
  return new RedisCluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    lazyConnect: true,
    redisOptions: {
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/** An outbound client that may reach exactly `urls` (the operator's), with the outbound limits. */
function outboundClient(config: Config, urls: readonly string[], setting: string): OutboundClient {
  return new OutboundClient({
    allow: AllowList.parse(urls, `${setting} entry`),
    timeoutMs: config.limits.outboundTimeoutMs,
    responseBytesMax: config.limits.outboundResponseBytesMax,
  });
}

function eventSinks(
  config: Config,
  cluster: Cluster | null,
  log: Logger,
  webhooks: OutboundClient,
): EventSink[] {
  const sinks: EventSink[] = [];
  if (cluster) {
    sinks.push(
      new RedisStreamSink({
        redis: cluster.redis,
        stream: config.events.stream,
        lengthMax: config.events.streamLengthMax,
        logger: log,
      }),
    );
  }
  if (config.events.webhookUrls.length > 0) {
    sinks.push(
      new WebhookSink({
        urls: config.events.webhookUrls,
        secret: config.events.webhookSecret,
        logger: log,
        outbound: webhooks,
      }),
    );
  }
  return sinks;
}

const USAGE = `Usage: parley <command> [flags]

Commands:
  serve     start the server (the default)
  bench     run a load benchmark against Parley and a bare baseline (parley bench --help)
  user      add, reset-password, disable or enable an account (parley user --help)
  stats     counts from the store
  migrate   apply pending schema migrations
  backup    copy a running embedded server's data into a directory (parley backup <dir>)
  help      show this help

Every flag also reads from the environment variable shown beside it; a flag wins.
${describeSettings()}
`;

/** The `parley` command line. Returns the process exit code for commands that end. */
export async function runCli(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'bench') {
    // Loaded on demand, so `serve` never loads autocannon or the bench client.
    const { runBenchCli } = await import('./bench/cli.js');
    return runBenchCli(argv.slice(1));
  }
  if (['user', 'stats', 'migrate', 'backup'].includes(argv[0] ?? '')) {
    const { runAdminCli } = await import('./admin/cli.js');
    return runAdminCli(argv);
  }
  const options = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.name, { type: 'string' as const }]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`parley: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const command = parsed.positionals[0] ?? 'serve';
  if (parsed.values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`parley: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    const { help, ...flags } = parsed.values;
    void help;
    config = loadConfig(process.env, flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const server = await startParley(config);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  return 0;
}
