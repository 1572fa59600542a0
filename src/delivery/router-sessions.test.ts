// The router's book of local sessions, on one node: a user's devices each get a push, a newer
// link of a device replaces the older, detaching a replaced link leaves its successor alone, and
// a link that leaves while a push walks its user's links does not cost the others that push.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { jsonCodec } from '../protocol/index.js';
import { DeliveryRouter, type LiveSession } from './router.js';

class Link implements LiveSession {
  readonly codec = jsonCodec;
  readonly userId: string;
  readonly device: string;
  pushes = 0;
  onPush: (() => void) | undefined;
  constructor(userId: string, device: string) {
    this.userId = userId;
    this.device = device;
  }
  push(): void {
    this.pushes += 1;
    this.onPush?.();
  }
  kick(): void {}
}

function router(): DeliveryRouter {
  return new DeliveryRouter({
    members: { withMembers: (_c, fn) => fn(new Set()), forget: () => undefined },
    limits: DEFAULT_LIMITS,
    logger: pino({ level: 'silent' }),
  });
}

const ping = { type: 'ping' } as const;

describe('DeliveryRouter sessions', () => {
  it('attach, replace and detach keep each device one link, and pushes reach them', async () => {
    const r = router();
    const phone = new Link('u', 'phone');
    const laptop = new Link('u', 'laptop');
    assert.equal(r.attach(phone), undefined);
    assert.equal(r.attach(laptop), undefined);
    const phone2 = new Link('u', 'phone');
    assert.equal(r.attach(phone2), phone, 'the older link of the device is handed back');
    assert.equal(r.connectionCount('u'), 2);
    r.deliver(['u'], ping);
    assert.deepEqual([phone.pushes, laptop.pushes, phone2.pushes], [0, 1, 1]);
    await r.detach(phone);
    assert.deepEqual([...r.sessionsOf('u')], [laptop, phone2], 'a replaced link leaves no gap');
    await r.detach(laptop);
    await r.detach(phone2);
    assert.equal(r.connectionCount('u'), 0);
    assert.deepEqual([...(await r.online(['u']))], []);
  });

  it('a link detached while a push walks its user still lets the others get it', () => {
    const r = router();
    const links = ['a', 'b', 'c'].map((d) => new Link('u', d));
    for (const link of links) r.attach(link);
    links[0]!.onPush = () => void r.detach(links[0]!);
    r.deliver(['u'], ping);
    assert.deepEqual(
      links.map((l) => l.pushes),
      [1, 1, 1],
    );
    assert.equal(r.connectionCount('u'), 2);
  });
});
