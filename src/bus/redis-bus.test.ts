// Proves that RedisBus keeps the Bus contract against a real redis-server, with classic and with
// sharded pub/sub, through a Redis restart, and that it counts what it drops.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import type { Bus } from './bus.js';
import { runBusContract, type BusBackend } from './bus.contract.js';
import { RedisBus } from './redis-bus.js';

for (const sharded of [false, true]) {
  describe(`RedisBus (${sharded ? 'sharded' : 'classic'} pub/sub)`, { skip: redisSkip() }, () => {
    let redis: RunningRedis;

    before(async () => {
      redis = await startRedis();
    });

    after(async () => {
      await redis?.stop();
    });

    const open = (): Promise<BusBackend> =>
      Promise.resolve({
        make: (): Bus => new RedisBus({ redis: redis.url, sharded }),
        close: () => Promise.resolve(),
        outage: { down: () => redis.kill(), up: () => redis.start() },
      });

    runBusContract({ open });

    it('counts the messages it drops while Redis is down, and logs the outage once', async () => {
      const lines: { level: string; msg: string; obj: object }[] = [];
      const logger = {
        info: (obj: object, msg: string) => lines.push({ level: 'info', msg, obj }),
        warn: (obj: object, msg: string) => lines.push({ level: 'warn', msg, obj }),
      };
      const bus = new RedisBus({ redis: redis.url, sharded, logger });
      try {
        await bus.subscribe('counting', () => undefined);
        await redis.kill();
        for (let i = 0; i < 10; i++)
          bus.publish('anyone', { kind: 'members-changed', conversation: 'secret-c' });
        await redis.start();
        await until(() => lines.some((l) => l.msg === 'redis reconnected'), 'reconnect logged');
        assert.ok(bus.dropped >= 10, `dropped ${bus.dropped}`);
        const warned = lines.filter((l) => l.level === 'warn');
        assert.ok(warned.length >= 1 && warned.length <= 2, 'one warning per connection');
        assert.ok(!JSON.stringify(lines).includes('secret-c'), 'no payload in the logs');
      } finally {
        await bus.close();
      }
    });
  });
}

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
