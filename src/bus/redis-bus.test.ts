// Proves that RedisBus keeps the Bus contract against a real redis-server, with classic and with
// sharded pub/sub, through a Redis restart, and that it counts what it drops; that it carries one
// turn's messages to a channel in one PUBLISH (split past the size cap, in order); and that it
// accepts the single-message envelope of an older node beside the batched one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Redis } from 'ioredis';

import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import type { Bus, BusMessage } from './bus.js';
import { runBusContract, type BusBackend } from './bus.contract.js';
import { BROADCAST_CHANNEL, RedisBus, nodeChannel } from './redis-bus.js';

const marker = (name: string): BusMessage => ({ kind: 'members-changed', conversation: name });
const namesOf = (got: readonly BusMessage[]): string[] =>
  got.map((m) => (m.kind === 'members-changed' ? m.conversation : m.kind));

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

    /** A subscribed bus with a unique node id, and what it receives. */
    async function listener(label: string) {
      const bus = new RedisBus({ redis: redis.url, sharded });
      const id = `${label}-${randomUUID().slice(0, 8)}`;
      const got: BusMessage[] = [];
      await bus.subscribe(id, (m) => got.push(m));
      return { bus, id, got };
    }

    /** How many PUBLISH (or SPUBLISH) commands Redis ran since the last CONFIG RESETSTAT. */
    async function publishCalls(raw: Redis): Promise<number> {
      const stats = await raw.info('commandstats');
      const name = sharded ? 'spublish' : 'publish';
      return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    }

    it('carries one turn of messages to each channel in one PUBLISH, in order', async () => {
      const raw = new Redis(redis.url);
      const [p, b] = [await listener('p'), await listener('b')];
      try {
        await raw.config('RESETSTAT');
        for (let i = 1; i <= 200; i++) p.bus.publish(b.id, marker(`m:${i}`));
        for (let i = 1; i <= 50; i++) p.bus.broadcast(marker(`all:${i}`));
        await until(() => b.got.length >= 250, 'every message');
        const expected = [
          ...Array.from({ length: 200 }, (_, i) => `m:${i + 1}`),
          ...Array.from({ length: 50 }, (_, i) => `all:${i + 1}`),
        ];
        assert.deepEqual(namesOf(b.got).sort(), [...expected].sort(), 'each once');
        assert.deepEqual(
          namesOf(b.got).filter((n) => n.startsWith('m:')),
          expected.slice(0, 200),
        );
        assert.equal(await publishCalls(raw), 2, 'one PUBLISH for the node, one for broadcast');
      } finally {
        await Promise.all([p.bus.close(), b.bus.close()]);
        raw.disconnect();
      }
    });

    it('splits a turn past the envelope size cap, keeping the order', async () => {
      const raw = new Redis(redis.url);
      const [p, b] = [await listener('p'), await listener('b')];
      const filler = 'x'.repeat(2_000);
      try {
        await raw.config('RESETSTAT');
        for (let i = 1; i <= 300; i++) p.bus.publish(b.id, marker(`${i}:${filler}`));
        await until(() => b.got.length >= 300, 'every message');
        const seen = namesOf(b.got).map((n) => Number(n.split(':')[0]));
        assert.deepEqual(
          seen,
          Array.from({ length: 300 }, (_, i) => i + 1),
        );
        const calls = await publishCalls(raw);
        // About 600 KB in envelopes of at most 256 KiB.
        assert.ok(calls >= 3 && calls <= 4, `${calls} PUBLISHes`);
      } finally {
        await Promise.all([p.bus.close(), b.bus.close()]);
        raw.disconnect();
      }
    });

    it("accepts an older node's single-message envelope beside batched ones", async () => {
      const raw = new Redis(redis.url);
      const b = await listener('b');
      const send = (channel: string, payload: unknown): Promise<unknown> => {
        const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
        return sharded ? raw.spublish(channel, data) : raw.publish(channel, data);
      };
      try {
        const to = nodeChannel(b.id);
        await send(to, { from: 'old-node', msg: marker('old') });
        await send(to, { from: 'new-node', msgs: [marker('n1'), { nope: 1 }, marker('n2')] });
        await send(to, 'not an envelope');
        await send(BROADCAST_CHANNEL, { from: b.id, msgs: [marker('own-echo')] });
        await send(to, { from: 'old-node', msg: marker('last') });
        await until(() => namesOf(b.got).includes('last'), 'the last message');
        assert.deepEqual(namesOf(b.got), ['old', 'n1', 'n2', 'last']);
        assert.equal(b.bus.malformed, 2, 'the item that is no message, and the non-envelope');
      } finally {
        await b.bus.close();
        raw.disconnect();
      }
    });

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
