// RequestSlots: at most N reads per key at once, later ones served in order, a bounded wait
// after which reads are refused with rate_limited, and a release that acts once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestSlots } from './request-slots.js';
import { isParleyError } from './errors.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RequestSlots', () => {
  it('runs at most inFlightMax per key, the rest in order, other keys unaffected', async () => {
    const slots = new RequestSlots(2, 10);
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const read = (n: number) =>
      slots.run('u', async () => {
        order.push(n);
        await new Promise<void>((resolve) => gates.push(resolve));
      });
    const runs = [1, 2, 3, 4].map(read);
    await tick();
    assert.deepEqual(order, [1, 2]);
    assert.equal(slots.active('u'), 2);
    // Another user is not held up by this one.
    await slots.run('v', () => Promise.resolve(order.push(99)));
    gates.shift()!();
    await tick();
    await tick();
    assert.deepEqual(order, [1, 2, 99, 3]);
    while (gates.length > 0 || order.length < 5) {
      gates.shift()?.();
      await tick();
    }
    await Promise.all(runs);
    assert.deepEqual(order, [1, 2, 99, 3, 4]);
    assert.equal(slots.active('u'), 0);
  });

  it('refuses with rate_limited once queuedMax wait, and recovers', async () => {
    const slots = new RequestSlots(1, 2);
    let open!: () => void;
    const held = slots.run('u', () => new Promise<void>((resolve) => (open = resolve)));
    const waiting = [
      slots.run('u', () => Promise.resolve(1)),
      slots.run('u', () => Promise.resolve(2)),
    ];
    await assert.rejects(
      slots.run('u', () => Promise.resolve(3)),
      (err: unknown) => {
        assert.ok(isParleyError(err) && err.code === 'rate_limited');
        return true;
      },
    );
    open();
    await held;
    assert.deepEqual(await Promise.all(waiting), [1, 2]);
    assert.equal(await slots.run('u', () => Promise.resolve(4)), 4);
  });

  it('acquire returns a release that frees the slot once, however often it is called', async () => {
    const slots = new RequestSlots(1, 5);
    const release = await slots.acquire('u');
    let second = false;
    const next = slots.acquire('u').then((r) => {
      second = true;
      return r;
    });
    await tick();
    assert.equal(second, false);
    release();
    release();
    const releaseNext = await next;
    assert.equal(slots.active('u'), 1, 'a second release must not free the next holder');
    releaseNext();
    assert.equal(slots.active('u'), 0);
  });
});
