// Proves, with a real server, a real push gateway and traps on other ports and loopback
// addresses that must receive nothing, that a pusher's URL is held to the outbound rule both
// when it is registered and when a notification is sent: each attack URL is refused by
// PUT /v1/me/pusher, and the same URLs written straight into the store (as if registered under an
// older rule) are never called; a gateway's redirect is not followed; and a bad gateway entry
// stops the start.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import {
  startPushGateway,
  startTrap,
  type PushGateway,
  type Received,
  type Trap,
} from '../test-support/push-gateway.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { loadConfig } from '../config/index.js';
import { startParley } from '../main.js';

describe('push notifications and the outbound rule', () => {
  let traps: Trap[];
  let gateway: PushGateway;
  let server: TestServer;
  let ann: TestUser;
  let carol: TestUser;
  let mallory: TestUser;
  let group: string;
  /** Every URL a pusher must not be able to make the server call. */
  let attacks: string[];

  const call = (u: TestUser, method: string, path: string, body?: unknown) =>
    callAs(server.url, method, path, u, body);
  const carolGot = (seq: number) => (r: Received) =>
    r.device.user === carol.userId && r.notification.seq === seq;
  const waitFor = async (what: string, match: (r: Received) => boolean) => {
    for (let i = 0; i < 200 && !gateway.received.some(match); i++) await sleep(50);
    assert.ok(gateway.received.some(match), `no push: ${what}`);
  };
  const pushes = async (result: string): Promise<number> => {
    const metrics = (await http('GET', `${server.url}/metrics`)).text;
    const re = new RegExp(`^parley_pushes_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, 'm');
    return Number(re.exec(metrics)?.[1] ?? 0);
  };
  const untouched = () => {
    for (const trap of traps) assert.equal(trap.connections(), 0, `${trap.url} was reached`);
  };

  before(async () => {
    traps = await Promise.all([
      startTrap('127.0.0.1'),
      startTrap('127.0.0.2'),
      startTrap('127.0.0.3'),
    ]);
    const [local, second, third] = traps as [Trap, Trap, Trap];
    gateway = await startPushGateway({ redirectTo: `${second.url}/internal` });
    const port = new URL(gateway.url).port;
    server = await startTestServer({
      PARLEY_PUSH_GATEWAYS: `${gateway.url}/push/,https://push.example.com`,
    });
    attacks = [
      `http://127.0.0.1:${port}0/push/internal`, // a port that starts with the gateway's
      `${local.url}/push/x`, // another port of the gateway's host
      `http://127.0.0.2:${port}/push/x`, // the gateway's port on another loopback address
      `${third.url}/push/x`,
      `http://localhost:${port}/push/x`, // a name that resolves to the gateway's address
      `http://[::ffff:127.0.0.1]:${port}/push/x`,
      `${gateway.url}/pushx`,
      `${gateway.url}/push/../admin`,
      `${gateway.url}/push/%2e%2e/admin`,
      `${gateway.url}/push/%2E%2E/admin`,
      `${gateway.url}/push/.%2e/admin`,
      `${gateway.url}/push/%252e%252e/admin`,
      `${gateway.url}/push\\..\\admin`,
      `${gateway.url}\\push\\x`,
      `http://127.0.0.1:${port}@127.0.0.2:${second.port}/push/x`,
      `${gateway.url}/push/x`.replace('http://', 'https://'),
      'https://push.example.com.evil.example/',
      'https://push.example.com:8443/',
      'https://push.example.com@169.254.169.254/',
      'http://169.254.169.254/latest/meta-data',
      'file:///etc/passwd',
    ];
    ann = await registerUser(server.url, 'ssrf-ann');
    carol = await registerUser(server.url, 'ssrf-carol');
    mallory = await registerUser(server.url, 'ssrf-mallory');
    group = (
      await ok(
        call(ann, 'POST', '/v1/conversations', {
          kind: 'group',
          title: 'SSRF',
          members: [carol.username, mallory.username],
        }),
        201,
      )
    ).id;
    await ok(call(carol, 'PUT', '/v1/me/pusher', { url: `${gateway.url}/push/n`, token: 'c' }));
  });

  after(async () => {
    await server?.close();
    gateway?.close();
    await Promise.all((traps ?? []).map((t) => t.close()));
  });

  it('refuses every attack URL at registration, and stores nothing', async () => {
    for (const url of attacks) {
      const res = await call(mallory, 'PUT', '/v1/me/pusher', { url, token: 'm' });
      assertError(res, 400, 'invalid_pusher');
    }
    assert.deepEqual(await ok(call(mallory, 'GET', '/v1/me/pusher')), { pusher: null });
    for (const url of [
      `${gateway.url}/push`,
      `${gateway.url}/push/a/b`,
      'https://push.example.com/x',
    ]) {
      await ok(call(mallory, 'PUT', '/v1/me/pusher', { url, token: 'm' }));
    }
    untouched();
  });

  it('never calls an attack URL written straight into the store', async () => {
    // A valid registration first, so that the notifier counts mallory at once.
    await ok(call(mallory, 'PUT', '/v1/me/pusher', { url: `${gateway.url}/push/m`, token: 'm' }));
    const failedBefore = await pushes('failed');
    const db = new Database(join(server.dataDir, 'parley.db'));
    try {
      const setUrl = db.prepare('UPDATE pushers SET url = ? WHERE user_id = ?');
      for (const url of attacks) {
        assert.equal(setUrl.run(url, mallory.userId).changes, 1);
        const seq = await sendText(server.url, ann, group, 'hello');
        // carol's push is the marker that this message's notifications were handled.
        await waitFor(`carol, seq ${seq}`, carolGot(seq));
      }
    } finally {
      db.close();
    }
    for (let i = 0; i < 100 && (await pushes('failed')) < failedBefore + attacks.length; i++) {
      await sleep(20);
    }
    assert.equal(await pushes('failed'), failedBefore + attacks.length, 'each one refused');
    assert.ok(!gateway.received.some((r) => r.device.user === mallory.userId), 'none reached it');
    untouched();
  });

  it('does not follow a redirect from the gateway', async () => {
    await ok(
      call(mallory, 'PUT', '/v1/me/pusher', { url: `${gateway.url}/push/m`, token: 'redirect' }),
    );
    const failedBefore = await pushes('failed');
    const seq = await sendText(server.url, ann, group, 'follow me');
    await waitFor('mallory, redirected', (r) => r.device.user === mallory.userId);
    await waitFor(`carol, seq ${seq}`, carolGot(seq));
    for (let i = 0; i < 100 && (await pushes('failed')) === failedBefore; i++) await sleep(20);
    assert.equal(await pushes('failed'), failedBefore + 1, 'a 307 is a failure');
    await sleep(100);
    untouched();
  });
});

describe('outbound entries, misconfigured', () => {
  it('refuses to start with an entry that breaks the URL rule, without echoing it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
    const start = (env: Record<string, string>) =>
      startParley(
        loadConfig({
          PARLEY_PORT: '0',
          PARLEY_DATA_DIR: dataDir,
          PARLEY_LOG_LEVEL: 'silent',
          ...env,
        }),
      );
    try {
      for (const entry of [
        'http://user:s3cret@127.0.0.1:1/push',
        'http://127.0.0.1:1/push\\x',
        'http://127.0.0.1:1/%2e%2e/',
      ]) {
        for (const [setting, env] of [
          ['PARLEY_PUSH_GATEWAYS', { PARLEY_PUSH_GATEWAYS: `http://127.0.0.1:1/ok,${entry}` }],
          [
            'PARLEY_WEBHOOK_URLS',
            { PARLEY_WEBHOOK_URLS: `http://127.0.0.1:1/ok,${entry}`, PARLEY_WEBHOOK_SECRET: 'k' },
          ],
        ] as const) {
          await assert.rejects(
            start(env),
            (err) =>
              err instanceof Error &&
              err.message.startsWith(`${setting} entry #2 is not usable`) &&
              !err.message.includes('s3cret'),
            `${setting}: ${entry}`,
          );
        }
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
