import type { RedisConnection, RedisLogger } from '../bus/index.js';

// Which nodes of a cluster are alive, and which users each one holds, so that the users of a
// node that died are announced offline (presence.ts only lets its entries expire).
//
// Keys (each command touches one key, so this works on Redis Cluster unchanged):
// - `parley:nodes`, a sorted set: node id → the Redis time (ms) of its last beat.
// - `parley:node-users:{<node>}`, a set: the users with a session on that node. RedisPresence.add
//   adds a user at once (a node may die before its next beat); it is rewritten whole at every beat (so a restarted Redis, or a reaper that took it, heals at the next beat). It
//   expires by itself long after its node stopped beating.
// - `parley:node-reaper:<node>`: SET NX by the one live node that takes a dead node's users.
//
// A node is dead when its last beat is older than the presence TTL plus one beat interval: by
// then every presence entry it wrote has expired too (entries are refreshed at each beat, and
// live for the TTL). The reaper reads the dead node's users, removes the node, and hands the
// users to `onDeadUsers`, which announces those that are now offline everywhere. A node that was
// only slow (a long pause) re-adds itself and its users at its next beat; the users that the
// reaper found online elsewhere, or that reconnected, are not announced (the caller checks).

export interface NodeWatchOptions {
  readonly redis: RedisConnection;
  readonly nodeId: string;
  /** The presence TTL: how long an entry lives without a refresh. */
  readonly ttlMs: number;
  /** How often beat() is called: the slack before a silent node counts as dead. */
  readonly beatIntervalMs: number;
  readonly logger?: RedisLogger;
}

/** A beat asked for while another runs: it runs next, with the last `users` asked with. */
interface WaitingBeat {
  users: () => Iterable<string>;
  done: Promise<void>;
}

const NODES_KEY = 'parley:nodes';
// The hash tag keeps a node's set and its staging copy in one Redis Cluster slot (for RENAME).
export const nodeUsersKey = (node: string): string => `parley:node-users:{${node}}`;

const reaperKey = (node: string): string => `parley:node-reaper:${node}`;
/** SADD arguments per command: a node with many users writes its set in chunks. */
const SADD_CHUNK = 1_000;

export class NodeWatch {
  private readonly redis: RedisConnection;
  private readonly nodeId: string;
  private readonly deadAfterMs: number;
  private readonly logger: RedisLogger | undefined;
  private lastBeat: Promise<void> = Promise.resolve();
  private waiting: WaitingBeat | null = null;

  constructor(options: NodeWatchOptions) {
    this.redis = options.redis;
    this.nodeId = options.nodeId;
    this.deadAfterMs = options.ttlMs + options.beatIntervalMs;
    this.logger = options.logger;
  }

  /**
   * Records that this node is alive and holds these users. Beats run one at a time (they share
   * one staging key): a beat asked for while one runs waits for it, and beats asked for meanwhile
   * are one beat, with the last `users` given.
   */
  beat(users: () => Iterable<string>): Promise<void> {
    if (this.waiting) {
      this.waiting.users = users;
      return this.waiting.done;
    }
    const next: WaitingBeat = { users, done: Promise.resolve() };
    next.done = this.lastBeat
      .catch(() => undefined)
      .then(() => {
        this.waiting = null;
        return this.beatNow(next.users);
      });
    this.waiting = next;
    this.lastBeat = next.done;
    return next.done;
  }

  /**
   * One beat. `users` is read twice: the set is rewritten from a first reading, and a session
   * attached meanwhile may have had its own SADD (RedisPresence.add, another connection) land
   * before the rewrite and be overwritten by it; the second reading, after the rewrite, adds it
   * back. Without it a node killed before its next beat leaves that user online to its peers
   * for good.
   */
  private async beatNow(users: () => Iterable<string>): Promise<void> {
    const now = await this.redisNowMs();
    const key = nodeUsersKey(this.nodeId);
    const listed = new Set(users());
    // A fresh temporary set renamed over the old one: readers never see it half written.
    const staging = `${key}:next`;
    await this.redis.del(staging);
    await this.addAll(staging, [...listed]);
    if (listed.size > 0) await this.redis.rename(staging, key);
    else await this.redis.del(key);
    // Long after this node stops beating, and after any reaper had its chance. Before the
    // newcomers, so that a failure adding them still leaves the beat recorded.
    await this.redis.pexpire(key, this.deadAfterMs * 10);
    await this.redis.zadd(NODES_KEY, now, this.nodeId);
    const newcomers = [...users()].filter((user) => !listed.has(user));
    if (newcomers.length === 0) return;
    await this.addAll(key, newcomers);
    await this.redis.pexpire(key, this.deadAfterMs * 10); // SADD may have made the key anew
  }

  /**
   * Finds nodes that stopped beating, takes at most one claim per dead node, and returns the
   * users that were on the nodes this call claimed. Each dead node is claimed by one caller.
   */
  async reap(): Promise<string[]> {
    const now = await this.redisNowMs();
    const dead = await this.redis.zrangebyscore(NODES_KEY, '-inf', now - this.deadAfterMs);
    const users: string[] = [];
    for (const node of dead) {
      if (node === this.nodeId) continue;
      const claimed = await this.redis.set(
        reaperKey(node),
        this.nodeId,
        'PX',
        this.deadAfterMs * 2,
        'NX',
      );
      if (claimed !== 'OK') continue;
      const found = await this.redis.smembers(nodeUsersKey(node));
      await this.redis.zrem(NODES_KEY, node);
      await this.redis.del(nodeUsersKey(node));
      this.logger?.warn({ node, users: found.length }, 'node stopped beating; its users are gone');
      users.push(...found);
    }
    return users;
  }

  /** A clean stop: this node's sessions are closed, so it leaves nothing to reap. */
  async leave(): Promise<void> {
    // A beat still running would otherwise add this node back after it left.
    await this.lastBeat.catch(() => undefined);
    await this.redis.zrem(NODES_KEY, this.nodeId);
    await this.redis.del(nodeUsersKey(this.nodeId));
  }

  private async addAll(key: string, users: readonly string[]): Promise<void> {
    for (let i = 0; i < users.length; i += SADD_CHUNK) {
      await this.redis.sadd(key, ...users.slice(i, i + SADD_CHUNK));
    }
  }

  private async redisNowMs(): Promise<number> {
    // Redis's clock, not ours: nodes' clocks may disagree, Redis's is one clock.
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}
