// Proves the REST send budget: a user who spent the burst waits for the refill, another user is
// unaffected, and the refusal carries the wait. Then over HTTP on a real server: sends, edits,
// recalls and reactions share the budget; the refusal is 429 rate_limited with Retry-After and
// stores nothing; a refused request that fails validation costs nothing; the seed API has no
// budget of its own (its wrk scripts send from one user as fast as they can).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isParleyError } from '../core/errors.js';
import { assertError, callAs, ok, registerUser, type TestUser } from '../test-support/rest.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { MemoryBudgetStore } from '../core/budget-store.js';
import { SendBudget } from './send-budget.js';

describe('SendBudget', () => {
  it('refuses once the burst is spent, with the wait, until a send refills', async () => {
    const budget = new SendBudget(new MemoryBudgetStore(), { ratePerSec: 2, burstMax: 3 });
    for (let i = 0; i < 3; i++) await budget.take('ann', 0);
    await assert.rejects(
      budget.take('ann', 100),
      (err: unknown) =>
        isParleyError(err) && err.code === 'rate_limited' && err.retryAfterMs === 400,
    );
    await budget.take('bob', 100);
    await budget.take('ann', 600);
    await assert.rejects(budget.take('ann', 600), /Too many sends/);
  });
});

describe('REST send budget over HTTP', () => {
  let server: TestServer;
  let ann: TestUser;
  let bob: TestUser;
  let conversation: string;

  before(async () => {
    server = await startTestServer({
      PARLEY_SEND_BURST_MAX: '4',
      PARLEY_SEND_RATE_PER_SEC: '1',
      PARLEY_SEED_API: 'open',
    });
    ann = await registerUser(server.url, 'budget-ann');
    bob = await registerUser(server.url, 'budget-bob');
    const opened = await ok(
      callAs(server.url, 'POST', '/v1/conversations', ann, { kind: 'direct', with: bob.username }),
      201,
    );
    conversation = opened.id as string;
  });

  after(async () => {
    await server.close();
  });

  const send = (u: TestUser, ref: string) =>
    callAs(server.url, 'POST', `/v1/conversations/${conversation}/messages`, u, {
      ref,
      body: { kind: 'text', text: ref },
    });

  it('shares one budget between sends and message actions, and a refusal stores nothing', async () => {
    const bad = await callAs(
      server.url,
      'POST',
      `/v1/conversations/${conversation}/messages`,
      ann,
      {
        ref: 'no body',
      },
    );
    assertError(bad, 400, 'invalid_request');
    const first = await ok(send(ann, 'one'), 201);
    await ok(send(ann, 'two'), 201);
    await ok(
      callAs(
        server.url,
        'POST',
        `/v1/conversations/${conversation}/messages/${first.seq}/reactions`,
        ann,
        { emoji: '👍' },
      ),
    );
    await ok(send(ann, 'three'), 201);

    const refused = await send(ann, 'four');
    assertError(refused, 429, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After in seconds');
    const edit = await callAs(
      server.url,
      'PATCH',
      `/v1/conversations/${conversation}/messages/${first.seq}`,
      ann,
      { body: { kind: 'text', text: 'edited' } },
    );
    assertError(edit, 429, 'rate_limited');

    const history = await ok(
      callAs(server.url, 'GET', `/v1/conversations/${conversation}/messages`, bob),
    );
    const texts = (history.messages as { body: { text: string } }[]).map((m) => m.body.text);
    assert.deepEqual(texts, ['one', 'two', 'three'], 'the refused send and edit changed nothing');

    await ok(send(bob, 'bob is not limited by ann'), 201);
  });

  it('leaves the seed API without a budget', async () => {
    for (let i = 0; i < 8; i++) {
      const res = await http('POST', `${server.url}/api/send`, {
        body: { chat: 'seed-a:seed-b', text: `n${i}`, sender: 'seed-a' },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal((res.json as { status: string }).status, 'success', res.text);
    }
  });
});
