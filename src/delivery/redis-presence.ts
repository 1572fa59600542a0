import {
  closeRedis,
  isCluster,
  openRedis,
  type RedisConnection,
  type RedisLogger,
  type RedisTarget,
} from '../bus/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ParleyError } from '../core/errors.js';
import { nodeUsersKey } from './node-watch.js';
import type { Presence, PresenceEntry } from './presence.js';

// Presence in Redis: one hash per user, `parley:presence:<user>`, whose fields are the user's
// (device, node) pairs and whose values are each entry's expiry (epoch ms, by the writing node's
// clock). Every write re-arms the key's TTL to `ttlMs`, the longest any entry can live, so a user
// whose nodes all died vanishes by itself; entries that expired beside live ones are filtered out
// by locate and deleted lazily.
//
// Writes touch one key each, so they work on Redis Cluster unchanged; refresh is many single-key
// commands that ioredis auto-pipelines, per shard on a Cluster. locate, on every push's path with
// a whole commit batch's users at once, is one script call that reads every asked hash
// (HGETALL_ALL): one command and one reply instead of one per user. On a Cluster, whose keys sit
// on different shards, it is one auto-pipelined HGETALL per user instead.
//
// Failures: the connection neither queues nor resends while Redis is unreachable. add, remove and
// refresh then resolve anyway, counting the failure in `failed`: presence is a hint, and the next
// refresh rewrites every entry a node holds. locate rejects with a temporary `unavailable`
// ParleyError, because an answer it cannot give is not "nobody is online".
//
// All nodes must use the same ttlMs: a write sets the key's TTL to its own ttlMs.

export interface RedisPresenceOptions {
  /** A redis:// URL, or a Cluster used as a template (see RedisTarget). */
  readonly redis: RedisTarget;
  /** How long an entry lives without a refresh. */
  readonly ttlMs: number;
  readonly clock?: Clock;
  /** Logs connection loss and recovery. */
  readonly logger?: RedisLogger;
}

const keyOf = (userId: string): string => `parley:presence:${userId}`;
// JSON, not a separator character: device ids come from clients and may contain anything.
const fieldOf = (e: PresenceEntry): string => JSON.stringify([e.device, e.node]);

function parseField(user: string, field: string): PresenceEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(field);
  } catch {
    return null; // not ours: ignored, and left for the key's TTL to clear
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [device, node] = value as unknown[];
  if (typeof device !== 'string' || typeof node !== 'string') return null;
  return { user, device, node };
}

// Deletes each field only if it still holds the expiry that locate saw as passed: a refresh that
// landed in between must win. KEYS[1] = the user's hash; ARGV = field, expiry, field, expiry, ...
const DELETE_IF_UNCHANGED = `
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return n`;

// Every asked user's hash, in KEYS order (an empty list for a user without one).
const HGETALL_ALL = `
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HGETALL', KEYS[i])
end
return out`;

/** Users read by one HGETALL_ALL call: Redis runs a script without pause. */
const LOCATE_USERS_PER_CALL_MAX = 1_000;

const CONNECT_WAIT_MS = 10_000;

export class RedisPresence implements Presence {
  private readonly redis: RedisConnection;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly logger: RedisLogger | undefined;
  /** A Redis Cluster: one script may not read keys of several shards. */
  private readonly clustered: boolean;
  private failedCount = 0;

  /** Connects, waiting at most `connectWaitMs` for Redis; rejects (and closes) otherwise. */
  static async open(
    options: RedisPresenceOptions & { readonly connectWaitMs?: number },
  ): Promise<RedisPresence> {
    const presence = new RedisPresence(options);
    const waitMs = options.connectWaitMs ?? CONNECT_WAIT_MS;
    if (!(await presence.ready(waitMs))) {
      await presence.close();
      throw new ParleyError('unavailable', `Redis did not answer within ${waitMs} ms.`);
    }
    return presence;
  }

  /** Starts connecting at once; until connected, operations fail as during an outage. */
  constructor(options: RedisPresenceOptions) {
    this.ttlMs = options.ttlMs;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.clustered = isCluster(options.redis);
    this.redis = openRedis(options.redis, {
      role: 'presence',
      offlineQueue: false,
      autoPipelining: true,
      logger: options.logger,
    });
    // A failure is logged through the 'error' event, and ioredis keeps retrying.
    this.redis.connect().catch(() => undefined);
  }

  /** Writes that Redis did not take (it was unreachable, or refused them). */
  get failed(): number {
    return this.failedCount;
  }

  async add(entry: PresenceEntry): Promise<void> {
    // The node's user set too, for the node watch: the node may die before its next beat.
    const listed = this.redis.sadd(nodeUsersKey(entry.node), entry.user).then(
      () => undefined,
      (err: unknown) => this.writeFailed(0, err),
    );
    await Promise.all([this.write([entry]), listed]);
  }

  refresh(entries: readonly PresenceEntry[]): Promise<void> {
    return this.write(entries);
  }

  async remove(entry: PresenceEntry): Promise<void> {
    await this.redis.hdel(keyOf(entry.user), fieldOf(entry)).then(
      () => undefined,
      (err: unknown) => this.writeFailed(1, err),
    );
  }

  async locate(userIds: readonly string[]): Promise<Map<string, PresenceEntry[]>> {
    const users = [...new Set(userIds)];
    let hashes: string[][];
    try {
      hashes = await this.readHashes(users);
    } catch (err) {
      throw new ParleyError('unavailable', 'Presence is unreachable.', { cause: err });
    }
    const now = this.clock.nowMs();
    const found = new Map<string, PresenceEntry[]>();
    users.forEach((user, i) => {
      const live: PresenceEntry[] = [];
      const expired: string[] = [];
      const flat = hashes[i] ?? [];
      for (let f = 0; f + 1 < flat.length; f += 2) {
        const [field, value] = [flat[f]!, flat[f + 1]!];
        const entry = parseField(user, field);
        if (entry === null) continue;
        if (Number(value) > now) live.push(entry);
        else expired.push(field, value);
      }
      if (live.length > 0) found.set(user, live);
      if (expired.length > 0) this.deleteExpired(user, expired);
    });
    return found;
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }

  /** Each user's hash as a flat [field, value, …] list, in the order asked. */
  private async readHashes(users: readonly string[]): Promise<string[][]> {
    if (this.clustered) {
      const hashes = await Promise.all(users.map((user) => this.redis.hgetall(keyOf(user))));
      return hashes.map((hash) => Object.entries(hash).flat());
    }
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < users.length; i += LOCATE_USERS_PER_CALL_MAX) {
      const keys = users.slice(i, i + LOCATE_USERS_PER_CALL_MAX).map(keyOf);
      calls.push(this.redis.eval(HGETALL_ALL, keys.length, ...keys));
    }
    return (await Promise.all(calls)).flat() as string[][];
  }

  /** HSET every entry of a user with its new expiry and re-arm the key, atomically per user. */
  private async write(entries: readonly PresenceEntry[]): Promise<void> {
    const expiresMs = String(this.clock.nowMs() + this.ttlMs);
    const byUser = new Map<string, string[]>();
    for (const entry of entries) {
      const fields = byUser.get(entry.user) ?? [];
      fields.push(fieldOf(entry), expiresMs);
      byUser.set(entry.user, fields);
    }
    // MULTI, so a key is never left without its TTL by a connection lost between the two.
    await Promise.all(
      [...byUser].map(([user, fields]) =>
        this.redis
          .multi()
          .hset(keyOf(user), ...fields)
          .pexpire(keyOf(user), this.ttlMs)
          .exec()
          .then(
            (results) => {
              // exec resolves null when the transaction was discarded, and per-command errors.
              const err = results === null ? 'discarded' : results.find(([e]) => e)?.[0];
              if (err) this.writeFailed(fields.length / 2, err);
            },
            (err: unknown) => this.writeFailed(fields.length / 2, err),
          ),
      ),
    );
  }

  private deleteExpired(user: string, fieldsAndValues: string[]): void {
    this.redis.eval(DELETE_IF_UNCHANGED, 1, keyOf(user), ...fieldsAndValues).catch(
      // Harmless: locate filters expired fields, and the key's TTL clears them in the end.
      (err: unknown) => this.writeFailed(0, err),
    );
  }

  private writeFailed(entries: number, err: unknown): void {
    this.failedCount += entries;
    // During an outage the connection has logged already; an error from a live Redis is news.
    if (this.redis.status === 'ready') {
      this.logger?.warn({ err: String(err), entries }, 'presence write failed');
    }
  }

  private ready(waitMs: number): Promise<boolean> {
    const redis = this.redis;
    if (redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        resolve(false);
      }, waitMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      redis.once('ready', onReady);
    });
  }
}
