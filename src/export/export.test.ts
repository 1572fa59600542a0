// Proves over real sockets that GET /v1/me/export gives a user everything Parley holds about it
// and everything it wrote (and nothing others wrote), over several pages of messages, and that
// exports are budgeted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  assertError,
  callAs,
  ok,
  registerUser,
  sendText,
  type TestUser,
} from '../test-support/rest.js';
import { http, startTestServer, type TestServer } from '../test-support/server.js';

describe('GET /v1/me/export', () => {
  let server: TestServer;
  let ann: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;

  const call = (u: TestUser, method: string, path: string, body?: unknown) =>
    callAs(server.url, method, path, u, body);
  const send = (u: TestUser, conversation: string, text: string) =>
    sendText(server.url, u, conversation, text);

  before(async () => {
    server = await startTestServer({ PARLEY_SEND_BURST_MAX: '5000' });
    ann = await registerUser(server.url, 'export-ann');
    bob = await registerUser(server.url, 'export-bob');
    carol = await registerUser(server.url, 'export-carol');
    dave = await registerUser(server.url, 'export-dave');
  });

  after(async () => {
    await server.close();
  });

  it('holds the account, profile, devices, relations, conversations and every message it sent', async () => {
    await ok(call(ann, 'PATCH', '/v1/me/profile', { displayName: 'Ann A.' }));
    await ok(call(ann, 'POST', '/v1/contacts/requests', { username: bob.username }), 201);
    await ok(call(bob, 'POST', `/v1/contacts/requests/${ann.username}/accept`));
    await ok(
      call(ann, 'POST', '/v1/contacts/requests', { username: carol.username, note: 'hi!' }),
      201,
    );
    await ok(call(ann, 'POST', `/v1/contacts/${dave.username}/block`));
    const direct = (
      await ok(call(ann, 'POST', '/v1/conversations', { kind: 'direct', with: bob.username }), 201)
    ).id as string;
    const group = (
      await ok(
        call(ann, 'POST', '/v1/conversations', {
          kind: 'group',
          title: 'Export',
          members: [bob.username, carol.username],
        }),
        201,
      )
    ).id as string;
    const texts: string[] = [];
    for (let i = 0; i < 1_100; i++) {
      const text = `note ${i}`;
      await send(ann, i % 2 ? direct : group, text);
      texts.push(text);
    }
    const recalled = await send(ann, direct, 'oops');
    await ok(call(ann, 'POST', `/v1/conversations/${direct}/messages/${recalled}/recall`));
    await send(bob, direct, 'bob wrote this');

    const res = await call(ann, 'GET', '/v1/me/export');
    assert.equal(res.status, 200, res.text.slice(0, 300));
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.match(String(res.headers['content-disposition']), /parley-export-export-ann\.json/);
    const data = JSON.parse(res.text);
    assert.equal(data.format, 'parley-export-1');
    assert.deepEqual([data.account.id, data.account.username], [ann.userId, ann.username]);
    assert.equal(data.profile.displayName, 'Ann A.');
    assert.deepEqual(
      data.devices.map((d: { device: string }) => d.device),
      [ann.device],
    );
    const names = (kind: string) =>
      data.contacts[kind].map((e: { username: string }) => e.username);
    assert.deepEqual(names('contacts'), [bob.username]);
    assert.deepEqual(names('outgoing'), [carol.username]);
    assert.equal(data.contacts.outgoing[0].note, 'hi!');
    assert.deepEqual(names('blocked'), [dave.username]);
    assert.deepEqual(names('incoming'), []);
    assert.deepEqual(
      data.conversations.map((c: { id: string }) => c.id).sort(),
      [direct, group].sort(),
    );

    const messages = data.messages as {
      conversation: string;
      seq: number;
      body: { text?: string; kind: string };
      recalled?: boolean;
    }[];
    assert.equal(messages.length, 1_101, 'every message she sent, over several pages');
    assert.equal(new Set(messages.map((m) => `${m.conversation}/${m.seq}`)).size, 1_101);
    assert.deepEqual(
      messages
        .filter((m) => m.body.kind === 'text')
        .map((m) => m.body.text)
        .sort(),
      [...texts].sort(),
    );
    const gone = messages.find((m) => m.conversation === direct && m.seq === recalled);
    assert.deepEqual([gone?.recalled, gone?.body.kind], [true, 'recalled']);
    assert.ok(!res.text.includes('bob wrote this'), 'not what others wrote');
  });

  it('is budgeted: three at once, then 429 with Retry-After', async () => {
    const u = await registerUser(server.url, 'export-eve');
    for (let i = 0; i < 3; i++) assert.equal((await call(u, 'GET', '/v1/me/export')).status, 200);
    const refused = await call(u, 'GET', '/v1/me/export');
    assertError(refused, 429, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assertError(await http('GET', `${server.url}/v1/me/export`), 401, 'unauthenticated');
  });
});
