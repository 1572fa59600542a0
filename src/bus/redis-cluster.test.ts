// Proves that RedisBus (sharded pub/sub), RedisPresence and RedisBudgetStore keep their
// contracts on a real 3-master Redis Cluster.
import { after, before, describe } from 'node:test';

import { Cluster } from 'ioredis';

import { runPresenceContract } from '../delivery/presence.contract.js';
import { RedisPresence } from '../delivery/redis-presence.js';
import { redisSkip, startRedisCluster, type RunningRedisCluster } from '../test-support/redis.js';
import { runBusContract } from './bus.contract.js';
import { RedisBus } from './redis-bus.js';
import { runBudgetStoreContract } from '../core/budget-store.contract.js';
import { RedisBudgetStore } from './redis-budget-store.js';
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
        // As the server opens its connection for events and budgets (main.ts).
        const c = openRedis(template, { role: 'budgets', offlineQueue: true });
        connections.push(c);
        return new RedisBudgetStore(c);
      },
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
