// The BudgetStore contract (budget-store.ts): a fresh bucket allows its burst, then refuses with
// the wait and takes nothing; wait() never takes; keys are independent; tokens come back with
// time; takeAll() takes from every bucket or from none, and concurrent calls never share a last
// token; giveBack() returns a token, never above the burst; buckets of different groups are not
// taken together. Every backend runs it, on real time (the Redis store keeps Redis's clock).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Budget, BudgetStore } from './budget-store.js';

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

    const budget = (burst: number): Budget => ({ key: key(), burst, refillMs: 60_000 });

    it('takes from every bucket with takeAll(), or from none and tells each wait', async () => {
      const store = opts.open();
      const [one, four] = [budget(1), budget(4)];
      assert.deepEqual(await store.takeAll([one, four], Date.now()), [0, 0]);
      const [oneWait, fourWait] = await store.takeAll([one, four], Date.now());
      assert.ok(oneWait! > 0 && oneWait! <= 60_000, `the empty bucket waits ${oneWait} ms`);
      assert.equal(fourWait, 0, 'the other had a token');
      for (let i = 0; i < 3; i++) {
        assert.equal(await store.take(four.key, 4, 60_000, Date.now()), 0, 'the refusal took none');
      }
      assert.ok((await store.take(four.key, 4, 60_000, Date.now())) > 0);
      assert.deepEqual(await store.takeAll([], Date.now()), []);
    });

    it('never lets concurrent takeAll() calls share the last tokens', async () => {
      const store = opts.open();
      const [few, many] = [budget(5), budget(8)];
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => store.takeAll([few, many], Date.now())),
      );
      const granted = answers.filter((waits) => waits.every((w) => w === 0)).length;
      assert.equal(granted, 5, 'exactly the smaller burst');
      for (let i = 0; i < 3; i++)
        assert.equal(await store.take(many.key, 8, 60_000, Date.now()), 0);
      assert.ok((await store.take(many.key, 8, 60_000, Date.now())) > 0, 'refusals took none');
    });

    it('gives back a token taken, never above the burst', async () => {
      const store = opts.open();
      const two = budget(2);
      for (let i = 0; i < 2; i++) assert.deepEqual(await store.takeAll([two], Date.now()), [0]);
      await store.giveBack([two], Date.now());
      assert.deepEqual(await store.takeAll([two], Date.now()), [0], 'one came back');
      assert.ok((await store.take(two.key, 2, 60_000, Date.now())) > 0);
      for (let i = 0; i < 4; i++) await store.giveBack([two], Date.now());
      for (let i = 0; i < 2; i++) assert.deepEqual(await store.takeAll([two], Date.now()), [0]);
      assert.ok((await store.take(two.key, 2, 60_000, Date.now())) > 0, 'no more than the burst');

      const untouched = budget(1);
      await store.giveBack([untouched], Date.now());
      assert.deepEqual(await store.takeAll([untouched], Date.now()), [0]);
      assert.ok((await store.take(untouched.key, 1, 60_000, Date.now())) > 0, 'a full one stays');
    });

    it('refuses to take buckets of different groups together', async () => {
      const store = opts.open();
      const other: Budget = { key: `other-${key()}`, burst: 1, refillMs: 60_000 };
      await assert.rejects(async () => store.takeAll([budget(1), other], Date.now()));
      await assert.rejects(async () => store.giveBack([budget(1), other], Date.now()));
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
