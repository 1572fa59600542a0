// Proves that RedisBus (sharded pub/sub), RedisPresence and RedisBudgetStore keep their
// contracts on a real 3-master Redis Cluster, and that a takeAll() of one group's buckets runs in
// Redis (one slot), shared by every node, rather than failing over to each node's memory.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Cluster } from 'ioredis';

import { runPresenceContract } from '../delivery/presence.contract.js';
import { RedisPresence } from '../delivery/redis-presence.js';
import { redisSkip, startRedisCluster, type RunningRedisCluster } from '../engines/index.js';
import { runBusContract } from './bus.contract.js';
import { RedisBus } from './redis-bus.js';
import { runBudgetStoreContract } from '../core/budget-store.contract.js';
import { RedisBudgetStore, redisBudgetKey } from './redis-budget-store.js';
import { openRedis, type RedisConnection } from './redis-connection.js';

describe('Redis Cluster backends', { skip: redisSkip() }, () => {
  let cluster: RunningRedisCluster;
  let template: Cluster;

  before(async () => {
    cluster = await startRedisCluster();
    // A template only: the backends duplicate it; it never connects itself.
    template = new Cluster([...cluster.nodes], { lazyConnect: true });
  });

  const connections: RedisConnection[] = [];

  after(async () => {
    for (const c of connections) c.disconnect();
    template?.disconnect();
    await cluster?.stop();
  });

  describe('RedisBus', () => {
    runBusContract({
      open: () =>
        Promise.resolve({
          make: () => new RedisBus({ redis: template }),
          close: () => Promise.resolve(),
        }),
    });
  });

  describe('RedisBudgetStore', () => {
    runBudgetStoreContract({
      name: 'Redis Cluster',
      open: () => {
        // As the server opens its connection for events and budgets (compose/cluster.ts).
        const c = openRedis(template, { role: 'budgets', offlineQueue: true });
        connections.push(c);
        return new RedisBudgetStore(c);
      },
    });

    it('takes the buckets of one group together in Redis, shared by every node', async () => {
      const warnings: string[] = [];
      const logger = {
        info: () => undefined,
        warn: (_: object, msg: string) => warnings.push(msg),
      };
      const links = [0, 1].map(() => openRedis(template, { role: 'budgets', offlineQueue: true }));
      connections.push(...links);
      const nodes = links.map((c) => new RedisBudgetStore(c, logger));
      // Keys in different slots but for their shared hash tag.
      const budgets = [
        { key: `login:ua:10.0.0.1|cluster-${Date.now()}`, burst: 3, refillMs: 60_000 },
        { key: `login:a:10.0.0.1-${Date.now()}`, burst: 10, refillMs: 60_000 },
      ];
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => nodes[i % 2]!.takeAll(budgets, Date.now())),
      );
      assert.equal(answers.filter((w) => w.every((x) => x === 0)).length, 3, 'one burst in all');
      assert.deepEqual(warnings, [], 'no command failed over to memory');
      await nodes[1]!.giveBack(budgets, Date.now());
      assert.deepEqual(await nodes[0]!.takeAll(budgets, Date.now()), [0, 0], 'given back');
      assert.deepEqual(warnings, []);
      assert.equal(await links[0]!.exists(redisBudgetKey(budgets[0]!.key)), 1, 'held in Redis');
    });
  });

  describe('RedisPresence', () => {
    runPresenceContract({
      open: () =>
        Promise.resolve({
          make: (ttlMs: number) => RedisPresence.open({ redis: template, ttlMs }),
          close: () => Promise.resolve(),
        }),
    });
  });
});
