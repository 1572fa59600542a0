// Proves that RedisPresence keeps the Presence contract against a real redis-server, that dead
// users' keys expire in Redis itself, and that refresh re-adds every entry after a Redis restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Redis } from 'ioredis';

import { ParleyError } from '../core/errors.js';
import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import { runPresenceContract } from './presence.contract.js';
import type { PresenceEntry } from './presence.js';
import { RedisPresence } from './redis-presence.js';

describe('RedisPresence', { skip: redisSkip() }, () => {
  let redis: RunningRedis;

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    await redis?.stop();
  });

  runPresenceContract({
    open: () =>
      Promise.resolve({
        make: (ttlMs: number) => RedisPresence.open({ redis: redis.url, ttlMs }),
        close: () => Promise.resolve(),
      }),
  });

  const entries: PresenceEntry[] = Array.from({ length: 20 }, (_, i) => ({
    user: `restart-u${i % 7}`,
    device: `d${i}`,
    node: `n${i % 2}`,
  }));

  it('refresh re-adds every entry after a Redis restart lost them', async () => {
    const presence = await RedisPresence.open({ redis: redis.url, ttlMs: 60_000 });
    try {
      await presence.refresh(entries);
      const users = [...new Set(entries.map((e) => e.user))];
      assert.equal((await presence.locate(users)).size, users.length);
      await redis.restart();
      // Until the connection is back, writes resolve (counted) and locate rejects, coded.
      await presence.refresh(entries);
      await until(async () => (await presence.locate(users).catch(() => null)) !== null);
      assert.equal((await presence.locate(users)).size, 0, 'the restart lost every entry');
      await presence.refresh(entries);
      const found = await presence.locate(users);
      assert.equal([...found.values()].flat().length, entries.length);
    } finally {
      await presence.close();
    }
  });

  it('locate rejects with a temporary coded error while Redis is down; writes do not', async () => {
    const presence = await RedisPresence.open({ redis: redis.url, ttlMs: 60_000 });
    try {
      await redis.kill();
      await until(async () => {
        await presence.add(entries[0]!);
        return presence.failed > 0;
      });
      await assert.rejects(
        presence.locate(['anyone']),
        (err) => err instanceof ParleyError && err.code === 'unavailable' && err.temporary,
      );
      await presence.remove(entries[0]!);
      await presence.refresh(entries);
    } finally {
      if (
        !(await redis.start().then(
          () => true,
          () => false,
        ))
      )
        await redis.restart();
      await presence.close();
    }
  });

  it('sets the key TTL, so a user whose nodes all died vanishes from Redis itself', async () => {
    const presence = await RedisPresence.open({ redis: redis.url, ttlMs: 5_000 });
    try {
      await presence.add({ user: 'ttl-user', device: 'd', node: 'n' });
      const ttlMs = await raw(redis.url, (c) => c.pttl('parley:presence:ttl-user'));
      assert.ok(ttlMs > 4_000 && ttlMs <= 5_000, `key TTL ${ttlMs} ms`);
    } finally {
      await presence.close();
    }
  });

  it('deletes expired fields that locate finds, keeping the live ones', async () => {
    const short = await RedisPresence.open({ redis: redis.url, ttlMs: 200 });
    const long = await RedisPresence.open({ redis: redis.url, ttlMs: 60_000 });
    try {
      const dead = { user: 'lazy-user', device: 'old', node: 'n1' };
      const alive = { user: 'lazy-user', device: 'new', node: 'n2' };
      await short.add(dead);
      await long.add(alive);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual((await long.locate([alive.user])).get(alive.user), [alive]);
      const fields = () => raw(redis.url, (c) => c.hkeys('parley:presence:lazy-user'));
      await until(async () => (await fields()).length === 1);
      assert.deepEqual(await fields(), [JSON.stringify([alive.device, alive.node])]);
    } finally {
      await short.close();
      await long.close();
    }
  });
});

/** A plain client, to look at what RedisPresence left in Redis. */
async function raw<T>(url: string, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url);
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
