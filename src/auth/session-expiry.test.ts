// Proves over real sockets that a session left unused past PARLEY_SESSION_IDLE_MS expires (401,
// and its row is gone), that a session in use stays alive however long it is used, and that a
// live link counts as use until it closes; the device list shows when each was last seen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { assertError, callAs, ok, registerUser, type TestUser } from '../test-support/rest.js';
import { RtClient } from '../test-support/rt-client.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';

const IDLE_MS = 3_000;
const PASSWORD = 'correct horse battery';

describe('session idle expiry', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ PARLEY_SESSION_IDLE_MS: String(IDLE_MS) });
  });

  after(async () => {
    await server.close();
  });

  const login = async (u: TestUser, device: string): Promise<TestUser> => {
    const res = await http('POST', `${server.url}/v1/auth/login`, {
      body: { username: u.username, password: PASSWORD, device },
    });
    assert.equal(res.status, 200, res.text);
    return { ...u, token: res.json.token, device };
  };
  const me = (u: TestUser) => callAs(server.url, 'GET', '/v1/me', u);

  it('keeps a session in use alive, and expires one left unused', async () => {
    const u = await registerUser(server.url, 'idle-ann');
    // In use for longer than the idle limit: every request counts.
    for (let i = 0; i < 8; i++) {
      assert.equal((await me(u)).status, 200, `request ${i + 1}`);
      await sleep(500);
    }
    await sleep(IDLE_MS + 600);
    const expired = await me(u);
    assertError(expired, 401, 'unauthenticated');
    assert.match(expired.json.error.message, /expired/);
    const again = await login(u, u.device);
    assert.equal((await me(again)).status, 200, 'logging in again works');
  });

  it('counts a live link as use until it closes, and lists when each device was last seen', async () => {
    const u = await registerUser(server.url, 'idle-bob');
    const phone = await login(u, 'phone');
    const link = await RtClient.connect(server, 'ws-json', phone.token, 'phone');
    // The link outlives the idle limit; the laptop's requests keep the laptop alive meanwhile.
    const deadline = Date.now() + IDLE_MS + 1_000;
    while (Date.now() < deadline) {
      assert.equal((await me(u)).status, 200);
      await sleep(500);
    }
    const droppedAt = Date.now();
    link.drop();
    let seen = 0;
    for (let i = 0; i < 100 && seen < droppedAt - 100; i++) {
      const { sessions } = await ok(callAs(server.url, 'GET', '/v1/me/sessions', u));
      seen = (sessions as { device: string; lastSeenAt: number }[]).find(
        (s) => s.device === 'phone',
      )!.lastSeenAt;
      if (seen < droppedAt - 100) await sleep(50);
    }
    assert.ok(seen >= droppedAt - 100, `the phone was seen when its link closed (${seen})`);
    assert.equal((await me(phone)).status, 200, 'so its token still works');
  });
});
