// Proves the login throttle: a username or an address that failed its burst must wait for the
// refill, successes cost nothing, one username's failures do not lock out another, and the
// bucket map stays bounded. Then, over HTTP on a real server: the refusal is 429 rate_limited
// with Retry-After, comes before the password is checked (even the right one waits), and lifts
// after the refill.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { MemoryBudgetStore } from '../core/budget-store.js';
import { LoginThrottle } from './login-throttle.js';

describe('LoginThrottle', () => {
  const make = (store = new MemoryBudgetStore()) =>
    new LoginThrottle(store, { userBurst: 3, addressBurst: 5, refillMs: 1_000 });

  it('makes a username wait once its burst of failures is spent, until one refills', async () => {
    const t = make();
    for (let i = 0; i < 3; i++) {
      assert.equal(await t.waitMs('ann', '10.0.0.1', 0), 0, `attempt ${i + 1} is free`);
      await t.failed('ann', '10.0.0.1', 0);
    }
    const wait = await t.waitMs('ann', '10.0.0.9', 0);
    assert.ok(wait > 0 && wait <= 1_000, `waits ${wait} ms, from any address`);
    assert.equal(
      await t.waitMs('bob', '10.0.0.1', 0),
      0,
      'another username from that address may try',
    );
    assert.equal(await t.waitMs('ann', '10.0.0.9', 1_000), 0, 'one failure forgiven per refill');
  });

  it('makes an address wait once its burst is spent, whatever the username', async () => {
    const t = make();
    for (let i = 0; i < 5; i++) await t.failed(`user${i}`, '10.0.0.2', 0);
    assert.ok((await t.waitMs('someone-new', '10.0.0.2', 0)) > 0);
    assert.equal(await t.waitMs('someone-new', '10.0.0.3', 0), 0);
    assert.equal(
      await t.waitMs('someone-new', undefined, 0),
      0,
      'no address: only the username counts',
    );
  });

  it('keeps at most entriesMax buckets in memory', async () => {
    const t = new LoginThrottle(new MemoryBudgetStore({ entriesMax: 100 }), {
      userBurst: 1,
      addressBurst: 1,
      refillMs: 60_000,
    });
    for (let i = 0; i < 1_000; i++) await t.failed(`spray${i}`, undefined, 0);
    // The newest are remembered, the oldest forgotten.
    assert.ok((await t.waitMs('spray999', undefined, 0)) > 0);
    assert.equal(await t.waitMs('spray0', undefined, 0), 0);
  });
});

describe('login throttle over HTTP', () => {
  let server: TestServer;
  const PASSWORD = 'correct horse battery';

  before(async () => {
    server = await startTestServer({
      PARLEY_LOGIN_FAILURES_MAX: '3',
      PARLEY_LOGIN_REFILL_MS: '1500',
    });
  });

  after(async () => {
    await server.close();
  });

  const login = (username: string, password: string) =>
    http('POST', `${server.url}/v1/auth/login`, { body: { username, password } });

  it('answers 429 rate_limited with Retry-After after the burst, even to the right password, then lets it in', async () => {
    await register(server.url, 'throttled', PASSWORD);
    await register(server.url, 'bystander', PASSWORD);
    for (let i = 0; i < 3; i++) {
      const res = await login('throttled', 'wrong password!');
      assert.equal(res.status, 401, res.text);
    }
    const refused = await login('throttled', PASSWORD);
    assert.equal(refused.status, 429, refused.text);
    assert.equal((refused.json as { error: { code: string } }).error.code, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After in seconds');
    assert.doesNotMatch(refused.text, /\n\s+at /);

    assert.equal((await login('bystander', PASSWORD)).status, 200, 'other users are unaffected');

    const deadline = Date.now() + 5_000;
    let res = refused;
    while (res.status === 429 && Date.now() < deadline) {
      await sleep(250);
      res = await login('throttled', PASSWORD);
    }
    assert.equal(res.status, 200, res.text);
  });
});
