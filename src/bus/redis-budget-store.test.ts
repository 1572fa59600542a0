// Proves that RedisBudgetStore keeps the BudgetStore contract on a real redis-server, that two
// nodes (two connections) share one bucket and never both get the last tokens of a takeAll(),
// that a bucket's name carries its group as a hash tag, that an idle bucket expires in Redis (and
// one given back to full is deleted), and that it answers from memory while Redis is down and
// shares again once it is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { runBudgetStoreContract } from '../core/budget-store.contract.js';
import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import { RedisBudgetStore, redisBudgetKey } from './redis-budget-store.js';

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

  /** Warnings of the contract's stores: any means an answer came from memory, not Redis. */
  const fellBack: string[] = [];
  runBudgetStoreContract({
    name: 'Redis',
    open: () => {
      // Queues its first commands until it is connected, so that Redis answers them.
      const c = new Redis(redis.url, { maxRetriesPerRequest: 0 });
      c.on('error', () => undefined);
      connections.push(c);
      return new RedisBudgetStore(c, {
        info: () => undefined,
        warn: (_obj, msg) => fellBack.push(msg),
      });
    },
  });

  it('answered the contract from Redis, never from memory', () => {
    assert.deepEqual(fellBack, []);
  });

  it('is one bucket for every node', async () => {
    const [a, b] = [connect(), connect()];
    await Promise.all([ready(a), ready(b)]);
    const nodes = [new RedisBudgetStore(a), new RedisBudgetStore(b)];
    for (let i = 0; i < 4; i++) assert.equal(await nodes[i % 2]!.take('shared', 4, 60_000, 0), 0);
    for (const node of nodes) assert.ok((await node.take('shared', 4, 60_000, 0)) > 0);
  });

  it('never lets two nodes both take the last tokens of a takeAll()', async () => {
    const [a, b] = [connect(), connect()];
    await Promise.all([ready(a), ready(b)]);
    const nodes = [new RedisBudgetStore(a), new RedisBudgetStore(b)];
    const budgets = [
      { key: 'race:source', burst: 6, refillMs: 60_000 },
      { key: 'race:address', burst: 40, refillMs: 60_000 },
    ];
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => nodes[i % 2]!.takeAll(budgets, Date.now())),
    );
    assert.equal(answers.filter((w) => w[0] === 0 && w[1] === 0).length, 6);
    const left = Number(await a.hget(redisBudgetKey('race:address'), 'tokens'));
    assert.equal(Math.floor(left), 34, 'the refusals took none');
  });

  it('names a bucket with its group as the hash tag', () => {
    assert.equal(redisBudgetKey('login:ua:10.0.0.1|ann'), 'parley:budget:{login}:ua:10.0.0.1|ann');
    assert.equal(redisBudgetKey('expiring'), 'parley:budget:{expiring}');
  });

  it('lets an idle bucket expire once it would be full again, and deletes one given back to full', async () => {
    const c = connect();
    await ready(c);
    const store = new RedisBudgetStore(c);
    assert.equal(await store.take('expiring', 2, 200, 0), 0);
    const ttl = await c.pttl('parley:budget:{expiring}');
    assert.ok(ttl > 0 && ttl <= 1_200, `expires in ${ttl} ms`);
    assert.equal(await store.wait('never-taken', 2, 200, 0), 0);
    assert.equal(await c.exists('parley:budget:{never-taken}'), 0, 'a look writes nothing');

    const given = { key: 'given:back', burst: 3, refillMs: 60_000 };
    assert.deepEqual(await store.takeAll([given], 0), [0]);
    assert.equal(await c.exists(redisBudgetKey(given.key)), 1);
    await store.giveBack([given], 0);
    assert.equal(await c.exists(redisBudgetKey(given.key)), 0, 'full again: nothing kept');
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
      const both = [
        { key: 'outage:a', burst: 1, refillMs: 60_000 },
        { key: 'outage:b', burst: 2, refillMs: 60_000 },
      ];
      assert.deepEqual(await one.takeAll(both, Date.now()), [0, 0]);
      assert.ok((await one.takeAll(both, Date.now()))[0]! > 0);
      await one.giveBack(both, Date.now());
      assert.deepEqual(await one.takeAll(both, Date.now()), [0, 0], 'given back in memory');
    } finally {
      await redis.start();
    }
    await Promise.race([Promise.all([ready(a), ready(b)]), sleep(10_000)]);
    assert.equal(await one.take('after', 1, 60_000, Date.now()), 0);
    assert.ok((await two.take('after', 1, 60_000, Date.now())) > 0, 'shared again');
  });
});
