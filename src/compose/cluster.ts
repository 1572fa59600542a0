import type { Config } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import {
  RedisBus,
  closeRedis,
  openRedis,
  whenReady,
  type RedisConnection,
  type RedisTarget,
} from '../bus/index.js';
import {
  NodeWatch,
  RedisPresence,
  type ClusterDeps,
  type DeliveryRouter,
} from '../delivery/index.js';
import type { Messaging } from '../messaging/index.js';
import { MeteredBus, type ParleyMetrics } from '../observability/index.js';

// What makes identical nodes one cluster: Redis for the bus, presence, the node watch and the
// event stream. Absent on an embedded node.

/** This node's part of the cluster. */
export interface Cluster {
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
  await watch.beat(() => [...router.localSessions()].map((s) => s.userId));
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
export async function openCluster(
  config: Config,
  redis: NonNullable<Config['redis']>,
  log: Logger,
  metrics: ParleyMetrics,
): Promise<Cluster> {
  const target = redis.cluster ? await clusterTemplate(redis.url) : redis.url;
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
async function clusterTemplate(url: string): Promise<RedisTarget> {
  // Imported here, not at the top: an embedded node never loads ioredis (decision 0078).
  const { Cluster: RedisCluster } = await import('ioredis');
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

/**
 * Joins this node to the cluster: bus messages reach the router, and every presence refresh
 * period live nodes re-arm their sessions' presence while the node watch has one live node
 * announce a dead node's users offline (node-watch.ts). Returns how to stop the beat.
 */
export async function joinCluster(
  config: Config,
  cluster: Cluster,
  router: DeliveryRouter,
  messaging: Messaging,
  log: Logger,
): Promise<() => void> {
  await cluster.deps.bus.subscribe(config.node.id, (message) => router.onBus(message));
  const beat = () => {
    router.refreshPresence().catch((err: unknown) => log.warn({ err }, 'presence refresh failed'));
    watchNodes(cluster.watch, router, messaging).catch((err: unknown) =>
      log.warn({ err }, 'node watch failed; the next beat retries'),
    );
  };
  beat();
  const timer = setInterval(beat, cluster.presenceRefreshMs);
  timer.unref();
  return () => clearInterval(timer);
}
