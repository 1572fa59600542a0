// Proves over real sockets, with a push gateway on a real HTTP port, that push notifications go
// to exactly the devices that should get them: a member offline everywhere, on a conversation it
// did not mute, on a device still logged in; never with the message's body. A gateway's 410
// removes the pusher, and a deleted account's are erased; a pusher must point at one of the
// operator's gateways.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import Database from 'better-sqlite3';

import {
  assertError,
  callAs,
  ok,
  registerUser,
  sendText,
  type TestUser,
} from '../test-support/rest.js';
import { RtClient } from '../test-support/rt-client.js';
import { startPushGateway, type PushGateway, type Received } from '../test-support/push-gateway.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';

describe('push notifications', () => {
  let gateway: PushGateway;
  let server: TestServer;
  let ann: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let direct: string;
  let group: string;

  const call = (u: TestUser, method: string, path: string, body?: unknown) =>
    callAs(server.url, method, path, u, body);
  const send = (u: TestUser, conversation: string, text: string) =>
    sendText(server.url, u, conversation, text);
  /** Waits (up to 10 s) for the gateway to have received a notification that matches. */
  const received = async (what: string, match: (r: Received) => boolean): Promise<Received> => {
    for (let i = 0; i < 200; i++) {
      const found = gateway.received.find(match);
      if (found) return found;
      await sleep(50);
    }
    assert.fail(`no push: ${what}; got ${JSON.stringify(gateway.received)}`);
  };
  const pushed = (user: TestUser, conversation: string, seq: number) => (r: Received) =>
    r.device.user === user.userId &&
    r.notification.conversation === conversation &&
    r.notification.seq === seq;

  before(async () => {
    gateway = await startPushGateway();
    server = await startTestServer({ PARLEY_PUSH_GATEWAYS: `${gateway.url}/push/` });
    ann = await registerUser(server.url, 'push-ann');
    bob = await registerUser(server.url, 'push-bob');
    carol = await registerUser(server.url, 'push-carol');
    direct = (
      await ok(call(ann, 'POST', '/v1/conversations', { kind: 'direct', with: bob.username }), 201)
    ).id;
    group = (
      await ok(
        call(ann, 'POST', '/v1/conversations', {
          kind: 'group',
          title: 'Push',
          members: [bob.username, carol.username],
        }),
        201,
      )
    ).id;
    for (const [u, token] of [
      [bob, 'tok-bob'],
      [carol, 'tok-carol'],
    ] as const) {
      const set = await ok(
        call(u, 'PUT', '/v1/me/pusher', { url: `${gateway.url}/push/notify`, token }),
      );
      assert.equal(set.pusher.token, token);
    }
  });

  after(async () => {
    await server?.close();
    gateway?.close();
  });

  it('notifies an offline member, without the body, and not one that is online', async () => {
    const seq = await send(ann, direct, 'the secret is 42');
    const r = await received('bob, offline', pushed(bob, direct, seq));
    assert.equal(r.path, '/push/notify');
    assert.deepEqual(r.device, { user: bob.userId, device: bob.device, token: 'tok-bob' });
    assert.equal(r.notification.sender, ann.userId);
    assert.equal(r.notification.kind, 'text');
    // The text itself, not its digits: "42" turns up in timestamps and ids by chance.
    assert.doesNotMatch(r.raw, /secret/, 'the body never goes to the gateway');
    assert.ok(!gateway.received.some((x) => x.device.user === ann.userId), 'not the sender');

    const link = await RtClient.connect(server, 'ws-json', bob.token, bob.device);
    const whileOnline = await send(ann, direct, 'are you there?');
    await link.waitFor((f) => f.type === 'message' && f.seq === whileOnline);
    link.drop();
    // carol, offline, is the marker: once her push is in, bob's would have been too.
    const marker = await send(ann, group, 'marker one');
    await received('carol', pushed(carol, group, marker));
    assert.ok(
      !gateway.received.some(pushed(bob, direct, whileOnline)),
      'no push while bob was online',
    );
  });

  it('skips a conversation the member muted, and a device that logged out', async () => {
    await ok(call(bob, 'PATCH', `/v1/conversations/${direct}/preferences`, { muted: true }));
    const muted = await send(ann, direct, 'shh');
    const marker = await send(ann, group, 'marker two');
    await received('bob, the group', pushed(bob, group, marker));
    assert.ok(!gateway.received.some(pushed(bob, direct, muted)), 'muted: no push');
    await ok(call(bob, 'PATCH', `/v1/conversations/${direct}/preferences`, { muted: false }));

    assert.equal((await call(bob, 'POST', '/v1/auth/logout')).status, 204);
    const after = await send(ann, group, 'bob logged out');
    await received('carol', pushed(carol, group, after));
    assert.ok(!gateway.received.some(pushed(bob, group, after)), 'logged out: no push');
  });

  it('drops a pusher the gateway says is gone (410)', async () => {
    await ok(
      call(carol, 'PUT', '/v1/me/pusher', { url: `${gateway.url}/push/notify`, token: 'dead' }),
    );
    const seq = await send(ann, group, 'to a dead token');
    await received('carol, dead', pushed(carol, group, seq));
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      gone = (await ok(call(carol, 'GET', '/v1/me/pusher'))).pusher === null;
      if (!gone) await sleep(50);
    }
    assert.ok(gone, 'the pusher is removed');
    // The outcomes are counted: the pushes taken so far, and this one removal.
    const metrics = (await http('GET', `${server.url}/metrics`)).text;
    const count = (result: string) =>
      Number(
        new RegExp(`^parley_pushes_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, 'm').exec(
          metrics,
        )?.[1],
      );
    assert.equal(count('removed'), 1);
    assert.ok(count('sent') >= 5, `sent ${count('sent')}`);
    assert.equal(count('failed'), 0);
  });

  it('erases the pushers of a deleted account', async () => {
    const erin = await registerUser(server.url, 'push-erin');
    await ok(call(erin, 'PUT', '/v1/me/pusher', { url: `${gateway.url}/push/notify`, token: 'e' }));
    const count = () => {
      const db = new Database(join(server.dataDir, 'parley.db'), { readonly: true });
      try {
        return db
          .prepare('SELECT count(*) FROM pushers WHERE user_id = ?')
          .pluck()
          .get(erin.userId);
      } finally {
        db.close();
      }
    };
    assert.equal(count(), 1);
    const gone = await call(erin, 'DELETE', '/v1/me', { password: 'correct horse battery' });
    assert.equal(gone.status, 204, gone.text);
    assert.equal(count(), 0);
  });

  it('refuses a pusher outside the operator’s gateways, and changes nothing', async () => {
    const dave = await registerUser(server.url, 'push-dave');
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      `${gateway.url}/elsewhere`,
      'file:///etc/passwd',
    ]) {
      assertError(await call(dave, 'PUT', '/v1/me/pusher', { url }), 400, 'invalid_pusher');
    }
    assertError(await call(dave, 'PUT', '/v1/me/pusher', {}), 400, 'invalid_request');
    assert.deepEqual(await ok(call(dave, 'GET', '/v1/me/pusher')), { pusher: null });
    assert.equal((await call(dave, 'DELETE', '/v1/me/pusher')).status, 204);
  });
});

describe('push notifications, not configured', () => {
  it('refuses every pusher', async () => {
    const server = await startTestServer();
    try {
      const u = await registerUser(server.url, 'nopush');
      const res = await callAs(server.url, 'PUT', '/v1/me/pusher', u, {
        url: 'https://push.example.com/notify',
      });
      assertError(res, 400, 'invalid_pusher');
      assert.match(res.json.error.message, /no push notifications/);
    } finally {
      await server.close();
    }
  });
});
