// Proves that RedisBudgetStore keeps the BudgetStore contract on a real redis-server, that two
// nodes (two connections) share one bucket, that an idle bucket expires in Redis, and that it
// answers from memory while Redis is down and shares again once it is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { runBudgetStoreContract } from '../core/budget-store.contract.js';
import { redisSkip, startRedis, type RunningRedis } from '../test-support/redis.js';
import { RedisBudgetStore } from './redis-budget-store.js';

describe('RedisBudgetStore', { skip: redisSkip() }, () => {
  let redis: RunningRedis;
  const connections: Redis[] = [];
  /** A node's connection: fails commands at once while Redis is down, as the server's does. */
  const connect = (): Redis => {
    const c = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    connections.push(c);
    return c;
  };
  const ready = (c: Redis) =>
    c.status === 'ready' ? Promise.resolve() : new Promise((r) => c.once('ready', r));

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    for (const c of connections) c.disconnect();
    await redis?.stop();
  });

  runBudgetStoreContract({ name: 'Redis', open: () => new RedisBudgetStore(connect()) });

  it('is one bucket for every node', async () => {
    const [a, b] = [connect(), connect()];
    await Promise.all([ready(a), ready(b)]);
    const nodes = [new RedisBudgetStore(a), new RedisBudgetStore(b)];
    for (let i = 0; i < 4; i++) assert.equal(await nodes[i % 2]!.take('shared', 4, 60_000, 0), 0);
    for (const node of nodes) assert.ok((await node.take('shared', 4, 60_000, 0)) > 0);
  });

  it('lets an idle bucket expire once it would be full again', async () => {
    const c = connect();
    await ready(c);
    const store = new RedisBudgetStore(c);
    assert.equal(await store.take('expiring', 2, 200, 0), 0);
    const ttl = await c.pttl('parley:budget:expiring');
    assert.ok(ttl > 0 && ttl <= 1_200, `expires in ${ttl} ms`);
    assert.equal(await store.wait('never-taken', 2, 200, 0), 0);
    assert.equal(await c.exists('parley:budget:never-taken'), 0, 'a look writes nothing');
  });

  it('answers from memory while Redis is down, and shares again once it is back', async () => {
    const [a, b] = [connect(), connect()];
    await Promise.all([ready(a), ready(b)]);
    const [one, two] = [new RedisBudgetStore(a), new RedisBudgetStore(b)];
    await redis.kill();
    try {
      // Never rejects: each node keeps its own bucket meanwhile.
      assert.equal(await one.take('outage', 1, 60_000, Date.now()), 0);
      assert.ok((await one.take('outage', 1, 60_000, Date.now())) > 0);
      assert.equal(await two.take('outage', 1, 60_000, Date.now()), 0, 'per node meanwhile');
    } finally {
      await redis.start();
    }
    await Promise.race([Promise.all([ready(a), ready(b)]), sleep(10_000)]);
    assert.equal(await one.take('after', 1, 60_000, Date.now()), 0);
    assert.ok((await two.take('after', 1, 60_000, Date.now())) > 0, 'shared again');
  });
});
