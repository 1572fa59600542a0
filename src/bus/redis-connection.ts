import { createRequire } from 'node:module';
import type { Cluster, Redis } from 'ioredis';

// How the Redis backends (RedisBus, RedisPresence) open their connections, so that a standalone
// server and a Redis Cluster are handled, and outages logged, in one place.

// ioredis is required on the first connection, not imported: an embedded node, which has no
// Redis, never loads it (decision 0078). It is CommonJS, so a synchronous require keeps
// openRedis synchronous.
const requireModule = createRequire(import.meta.url);
const ioredis = (): typeof import('ioredis') =>
  requireModule('ioredis') as typeof import('ioredis');

/**
 * Where to connect: a `redis://` (or `rediss://`) URL of one server, or an ioredis Cluster.
 * A Cluster is used as a template only: each backend opens its own connections with
 * `cluster.duplicate()` and the options it needs, and closes them; the caller keeps, and
 * closes, the Cluster it passed (create it with `lazyConnect: true` so it never connects).
 */
export type RedisTarget = string | Cluster;

/** The part of a pino logger the Redis backends use. They never log payloads. */
export interface RedisLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type RedisConnection = Redis | Cluster;

export interface ConnectionOptions {
  /** Names the connection in logs and in CLIENT LIST. */
  readonly role: string;
  /**
   * Queue commands while disconnected (true) or fail them at once (false). The bus publisher
   * must drop, not queue: a push that arrives late is worse than one the client syncs.
   */
  readonly offlineQueue: boolean;
  /** A Cluster subscriber that uses sharded pub/sub (SSUBSCRIBE): one connection per shard. */
  readonly shardedSubscriber?: boolean;
  /** Coalesce the commands issued in one event-loop turn into one write (per shard). */
  readonly autoPipelining?: boolean;
  readonly logger?: RedisLogger | undefined;
}

/** Reconnect forever, backing off to at most 2 s between attempts. */
const retryDelayMs = (attempt: number): number => Math.min(attempt * 100, 2_000);

export function isCluster(target: RedisTarget): target is Cluster {
  return typeof target !== 'string';
}

/** Opens a connection (lazily: it connects on its first command or on `connect()`). */
export function openRedis(target: RedisTarget, options: ConnectionOptions): RedisConnection {
  // At most once: a command whose reply was lost in a disconnect is never sent again.
  const common = {
    lazyConnect: true,
    enableOfflineQueue: options.offlineQueue,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: options.autoPipelining ?? false,
    ...(options.offlineQueue ? {} : { maxRetriesPerRequest: 0 }),
  };
  const connection = isCluster(target)
    ? target.duplicate([], {
        ...common,
        clusterRetryStrategy: retryDelayMs,
        shardedSubscribers: options.shardedSubscriber ?? false,
        redisOptions: {
          ...target.options.redisOptions,
          autoResendUnfulfilledCommands: false,
          connectionName: `parley-${options.role}`,
          ...(options.offlineQueue ? {} : { maxRetriesPerRequest: 0 }),
        },
      })
    : new (ioredis().Redis)(target, {
        ...common,
        retryStrategy: retryDelayMs,
        connectionName: `parley-${options.role}`,
      });
  logOutages(connection, options.role, options.logger);
  return connection;
}

/**
 * Logs each outage once, when reconnecting starts, and its end; not every failed attempt.
 * Listening to 'error' also keeps ioredis from printing "Unhandled error event" per attempt.
 */
function logOutages(connection: RedisConnection, role: string, logger?: RedisLogger): void {
  let lastError = '';
  let attempts = 0;
  connection.on('error', (err: Error) => {
    lastError = err.message;
  });
  // Emitted only for a connection that is lost (or never made), never after close().
  connection.on('reconnecting', () => {
    if (attempts++ === 0) {
      logger?.warn({ redis: role, err: lastError }, 'redis connection lost; reconnecting');
    }
  });
  connection.on('ready', () => {
    if (attempts > 0) logger?.info({ redis: role, attempts }, 'redis reconnected');
    attempts = 0;
    lastError = '';
  });
}

/**
 * Resolves once the connection is ready and, on a Cluster, once every master has its own
 * connection open: ioredis can reorder commands sent to a shard while that shard's connection is
 * still opening (seen with 500 SPUBLISHes right after start), which would break the bus's order.
 * The caller bounds the wait.
 */
export async function whenReady(connection: RedisConnection): Promise<void> {
  await readyOf(connection);
  if (connection instanceof ioredis().Cluster)
    await Promise.all(connection.nodes('master').map(readyOf));
}

function readyOf(connection: RedisConnection): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  const ready = new Promise<void>((resolve) => connection.once('ready', () => resolve()));
  // A lazy connection waits for its first command: open it now. Its failures go to 'error'.
  if (connection.status === 'wait') connection.connect().catch(() => undefined);
  return ready;
}

const QUIT_WAIT_MS = 1_000;

/** Closes a connection: QUIT when it is up (bounded), else drops the socket. Never rejects. */
export async function closeRedis(connection: RedisConnection): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'ready') {
    const quitted = await Promise.race([
      connection.quit().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => setTimeout(resolve, QUIT_WAIT_MS, false).unref()),
    ]);
    if (quitted) return;
  }
  connection.disconnect();
}
