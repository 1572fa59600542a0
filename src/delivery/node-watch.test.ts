// Proves, against a real redis-server, that the node watch finds a node that stopped beating only
// after the presence TTL and one beat interval, hands its users to exactly one reaper, leaves live
// nodes alone, and forgets a node that left cleanly; that a node taken for dead comes back; and
// that a session added during a beat is not lost from its node's set.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import { NodeWatch, nodeUsersKey } from './node-watch.js';

const TTL_MS = 300;
const BEAT_MS = 100;

describe('NodeWatch', { skip: redisSkip() }, () => {
  let redis: RunningRedis;
  const connections: Redis[] = [];

  before(async () => {
    redis = await startRedis();
  });

  // Every test starts from an empty Redis: the keys are global, and earlier nodes fall silent.
  beforeEach(async () => {
    const admin = new Redis(redis.url);
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
  });

  after(async () => {
    for (const c of connections) c.disconnect();
    await redis?.stop();
  });

  function watch(nodeId: string): NodeWatch {
    const connection = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    connections.push(connection);
    return new NodeWatch({ redis: connection, nodeId, ttlMs: TTL_MS, beatIntervalMs: BEAT_MS });
  }

  it('gives a silent node’s users to one reaper, after TTL + one beat, and never a live node’s', async () => {
    const [a, b, c] = [watch('dead-a'), watch('live-b'), watch('live-c')];
    await a.beat(() => ['u1', 'u2', 'u3']);
    await b.beat(() => ['u4']);
    await c.beat(() => []);
    assert.deepEqual(await b.reap(), [], 'nobody is dead yet');

    // a stops beating; b and c go on. Before TTL + beat has passed, a is not dead.
    await sleep(BEAT_MS);
    await b.beat(() => ['u4']);
    await c.beat(() => []);
    assert.deepEqual(await c.reap(), [], 'a is only one beat late');

    const deadline = Date.now() + 5_000;
    let reaped: string[] = [];
    let other: string[] = [];
    while (Date.now() < deadline) {
      await sleep(BEAT_MS);
      await b.beat(() => ['u4']);
      await c.beat(() => []);
      // Both live nodes reap at once: exactly one gets a's users.
      [reaped, other] = await Promise.all([b.reap(), c.reap()]);
      if (reaped.length + other.length > 0) break;
    }
    const all = [...reaped, ...other].sort();
    assert.deepEqual(all, ['u1', 'u2', 'u3']);
    assert.ok(reaped.length === 0 || other.length === 0, 'one reaper only');
    assert.deepEqual(await b.reap(), [], 'a dead node is reaped once');
    assert.deepEqual(await c.reap(), []);
  });

  it('lets a node taken for dead come back with its next beat', async () => {
    const [slow, live] = [watch('slow-s'), watch('live-l')];
    await slow.beat(() => ['s1']);
    await sleep(TTL_MS + BEAT_MS + 50);
    await live.beat(() => []);
    assert.deepEqual(await live.reap(), ['s1']);
    // The slow node beats again: it is a node with users again, not dead.
    await slow.beat(() => ['s1', 's2']);
    await live.beat(() => []);
    assert.deepEqual(await live.reap(), []);
  });

  it('keeps a user whose session was added while a beat rewrote the set', async () => {
    // A session attached during a beat, after the beat read its users: its SADD
    // (RedisPresence.add, on another connection) lands just before the beat's RENAME. The node
    // then dies before its next beat. The hook on RENAME only orders the two; Redis is real.
    const live = watch('live-n');
    const dying = watch('dying-n');
    const connection = connections.at(-1)!;
    const adder = new Redis(redis.url);
    connections.push(adder);
    const sessions = ['d1'];
    const rename = connection.rename.bind(connection);
    connection.rename = async (key: string, newKey: string) => {
      sessions.push('d2');
      await adder.sadd(nodeUsersKey('dying-n'), 'd2');
      return rename(key, newKey);
    };
    await dying.beat(() => sessions);
    await sleep(TTL_MS + BEAT_MS + 50);
    await live.beat(() => []);
    assert.deepEqual((await live.reap()).sort(), ['d1', 'd2']);
  });

  it('lets a beat that overlaps a running one wait its turn instead of breaking it', async () => {
    // Beats on a slow Redis can overlap (a timer starts them), and they share one staging key.
    // Here the second beat starts while the first is filling the staging set (the hook on SADD
    // only orders them; Redis is real); run at once, it would RENAME first and the first beat's
    // older reading would then overwrite it.
    const live = watch('live-o');
    const node = watch('overlap-n');
    const connection = connections.at(-1)!;
    const sadd = connection.sadd.bind(connection);
    let second: Promise<void> | undefined;
    connection.sadd = (async (...args: Parameters<typeof sadd>) => {
      if (second === undefined) {
        second = node.beat(() => ['o1', 'o2', 'o3']);
        await sleep(50);
      }
      return sadd(...args);
    }) as typeof connection.sadd;
    await node.beat(() => ['o1', 'o2']);
    await second;
    await sleep(TTL_MS + BEAT_MS + 50);
    await live.beat(() => []);
    assert.deepEqual((await live.reap()).sort(), ['o1', 'o2', 'o3']);
  });

  it('leaves nothing to reap after a clean leave', async () => {
    const [gone, live] = [watch('left-g'), watch('live-m')];
    await gone.beat(() => ['g1']);
    await gone.leave();
    await sleep(TTL_MS + BEAT_MS + 50);
    await live.beat(() => []);
    assert.deepEqual(await live.reap(), []);
  });
});
