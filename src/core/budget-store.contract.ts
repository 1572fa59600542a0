// The BudgetStore contract (budget-store.ts): a fresh bucket allows its burst, then refuses with
// the wait and takes nothing; wait() never takes; keys are independent; tokens come back with
// time. Every backend runs it, on real time (the Redis store keeps Redis's clock).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { BudgetStore } from './budget-store.js';

export function runBudgetStoreContract(opts: { name: string; open: () => BudgetStore }): void {
  describe(`BudgetStore contract (${opts.name})`, () => {
    let n = 0;
    /** A key no other case (nor an earlier run on the same Redis) used. */
    const key = () => `contract:${process.pid}:${Date.now()}:${++n}`;

    it('allows the burst, then refuses with the wait and takes nothing', async () => {
      const store = opts.open();
      const k = key();
      for (let i = 0; i < 3; i++) assert.equal(await store.take(k, 3, 60_000, Date.now()), 0);
      const wait = await store.take(k, 3, 60_000, Date.now());
      assert.ok(wait > 0 && wait <= 60_000, `refused for ${wait} ms`);
      const again = await store.take(k, 3, 60_000, Date.now());
      assert.ok(again > 0 && again <= wait, 'a refusal takes nothing: the wait does not grow');
      const told = await store.wait(k, 3, 60_000, Date.now());
      assert.ok(told > 0 && told <= wait);
    });

    it('keeps keys apart, and wait() takes nothing', async () => {
      const store = opts.open();
      const [a, b] = [key(), key()];
      assert.equal(await store.take(a, 1, 60_000, Date.now()), 0);
      assert.ok((await store.take(a, 1, 60_000, Date.now())) > 0);
      for (let i = 0; i < 5; i++) assert.equal(await store.wait(b, 1, 60_000, Date.now()), 0);
      assert.equal(await store.take(b, 1, 60_000, Date.now()), 0, 'the looks took nothing');
    });

    it('gives a token back every refillMs', async () => {
      const store = opts.open();
      const k = key();
      assert.equal(await store.take(k, 1, 300, Date.now()), 0);
      const wait = await store.take(k, 1, 300, Date.now());
      assert.ok(wait > 0 && wait <= 300, `waits ${wait} ms`);
      await sleep(wait + 50);
      assert.equal(await store.take(k, 1, 300, Date.now()), 0);
    });
  });
}
