// Proves that ParleyApi's REST helpers work against a real server: accounts (register, login,
// logout, devices, password change), profiles and search, contacts, direct chats, groups and their management, history, message search,
// and attachment upload and download, with server refusals surfacing as coded errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { ParleyApi } from './api.js';
import { ParleyClientError } from './errors.js';
import type { Body } from './body.js';

/** The text of a text body, else undefined: the SDK's bodies are a union by `kind`. */
const textOf = (b: Body | undefined | null) => (b?.kind === 'text' ? b.text : undefined);
/** The event of a system body, else undefined. */
const eventOf = (b: Body | undefined | null) => (b?.kind === 'system' ? b.event : undefined);

const PASSWORD = 'correct horse battery';
/** A 1×1 transparent PNG. */
const PNG = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
    'base64',
  ),
);

describe('ParleyApi against a real server', () => {
  let server: TestServer;
  let alice: ParleyApi;
  let bob: ParleyApi;
  let carol: ParleyApi;
  const ids = new Map<string, string>();

  before(async () => {
    server = await startTestServer();
    alice = new ParleyApi({ url: `${server.url}/` }); // a trailing slash is tolerated
    bob = new ParleyApi({ url: server.url });
    carol = new ParleyApi({ url: server.url });
    for (const [api, name] of [
      [alice, 'api_alice'],
      [bob, 'api_bob'],
      [carol, 'api_carol'],
    ] as const) {
      const r = await api.register({ username: name, password: PASSWORD, device: `${name}-d` });
      ids.set(name, r.user.id);
    }
  });

  after(async () => {
    await server.close();
  });

  it('registers, logs in and out, and uses the token it was given', async () => {
    const api = new ParleyApi({ url: server.url });
    const registered = await api.register({ username: 'api_dora', password: PASSWORD });
    assert.match(registered.token, /^pt_/);
    assert.equal(api.token, registered.token);
    assert.ok(registered.device.length > 0, 'a device id was generated');
    assert.deepEqual((await api.users.me()).user, registered.user);

    await assert.rejects(api.register({ username: 'api_dora', password: PASSWORD }), {
      code: 'username_taken',
      status: 409,
    });
    await assert.rejects(
      api.login({ username: 'api_dora', password: 'wrong password' }),
      (err: unknown) =>
        err instanceof ParleyClientError &&
        err.code === 'invalid_credentials' &&
        err.status === 401 &&
        !err.temporary,
    );
    const login = await api.login({
      username: 'api_dora',
      password: PASSWORD,
      device: registered.device,
    });
    assert.notEqual(login.token, registered.token, 'a new login of the device gets a new token');
    assert.equal(api.token, login.token);

    await api.logout();
    assert.equal(api.token, undefined);
    const stale = new ParleyApi({ url: server.url, token: login.token });
    await assert.rejects(stale.users.me(), { code: 'unauthenticated', status: 401 });
  });

  it('lists devices, logs one out, changes the password and deletes the account', async () => {
    const laptop = new ParleyApi({ url: server.url });
    await laptop.register({ username: 'api_eli', password: PASSWORD, device: 'laptop' });
    const phone = new ParleyApi({ url: server.url });
    await phone.login({ username: 'api_eli', password: PASSWORD, device: 'phone' });
    const tablet = new ParleyApi({ url: server.url });
    await tablet.login({ username: 'api_eli', password: PASSWORD, device: 'tablet' });
    const devices = await laptop.account.sessions();
    assert.deepEqual(devices.map((d) => d.device).sort(), ['laptop', 'phone', 'tablet']);
    assert.deepEqual(
      devices.filter((d) => d.current).map((d) => d.device),
      ['laptop'],
    );

    await laptop.account.revoke('phone');
    await assert.rejects(phone.users.me(), { code: 'unauthenticated', status: 401 });
    await assert.rejects(laptop.account.revoke('phone'), {
      code: 'session_not_found',
      status: 404,
    });

    await assert.rejects(laptop.account.changePassword('not the password', 'new password 1'), {
      code: 'wrong_password',
      status: 403,
    });
    await laptop.account.changePassword(PASSWORD, 'new password 1');
    await assert.rejects(tablet.users.me(), { code: 'unauthenticated', status: 401 });
    assert.equal((await laptop.users.me()).device, 'laptop');
    await new ParleyApi({ url: server.url }).login({
      username: 'api_eli',
      password: 'new password 1',
    });

    await assert.rejects(laptop.account.delete('not the password'), { code: 'wrong_password' });
    await laptop.account.delete('new password 1');
    assert.equal(laptop.token, undefined, 'the token is forgotten');
    await assert.rejects(
      new ParleyApi({ url: server.url }).login({ username: 'api_eli', password: 'new password 1' }),
      { code: 'invalid_credentials' },
    );
  });

  it('edits a profile and finds users by prefix', async () => {
    const updated = await alice.users.update({ displayName: 'Alice A.', bio: 'climbs' });
    assert.equal(updated.displayName, 'Alice A.');
    assert.equal((await bob.users.get('api_alice')).bio, 'climbs');
    const page = await bob.users.search('api_', { limit: 2 });
    assert.deepEqual(
      page.users.map((u) => u.username),
      ['api_alice', 'api_bob'],
    );
    assert.equal(page.next, 'api_bob');
    const rest = await bob.users.search('api_', { after: page.next });
    assert.ok(rest.users.some((u) => u.username === 'api_carol'));
    await assert.rejects(bob.users.get('nobody_here'), { code: 'user_not_found', status: 404 });
  });

  it('asks, accepts and lists contacts', async () => {
    assert.equal(await alice.contacts.request('api_bob', 'from the crag'), 'outgoing');
    const incoming = await bob.contacts.requests('incoming');
    assert.deepEqual(
      incoming.entries.map((e) => [e.user.username, e.note]),
      [['api_alice', 'from the crag']],
    );
    assert.equal(await bob.contacts.accept('api_alice'), 'contact');
    assert.deepEqual(
      (await alice.contacts.list()).entries.map((e) => e.user.username),
      ['api_bob'],
    );
    assert.equal(await carol.contacts.block('api_alice'), 'blocked');
    assert.deepEqual(
      (await carol.contacts.blocked()).entries.map((e) => e.user.username),
      ['api_alice'],
    );
    await assert.rejects(alice.conversations.openDirect('api_carol'), { code: 'blocked' });
    assert.equal(await carol.contacts.unblock('api_alice'), 'none');
  });

  it("exports the user's data", async () => {
    const data = await alice.account.export();
    assert.equal(data.format, 'parley-export-1');
    assert.equal((data.account as { username: string }).username, 'api_alice');
    assert.ok(Array.isArray(data.messages));
  });

  it('reads and refuses pushers (this server names no push gateway)', async () => {
    assert.equal(await alice.account.pusher(), null);
    await assert.rejects(alice.account.setPusher({ url: 'https://push.example.com/x' }), {
      code: 'invalid_pusher',
      status: 400,
    });
    await alice.account.removePusher();
  });

  it('joins, leaves and rejoins a room', async () => {
    const room = await alice.conversations.joinRoom('api-porch');
    await bob.conversations.joinRoom('api-porch');
    await bob.conversations.leaveRoom(room.id);
    assert.ok(!(await bob.conversations.list()).some((c) => c.id === room.id));
    await assert.rejects(bob.messages.send(room.id, 'porch-1', { kind: 'text', text: 'hi' }), {
      code: 'not_member',
    });
    await bob.conversations.joinRoom('api-porch');
    assert.equal(
      (await bob.messages.send(room.id, 'porch-2', { kind: 'text', text: 'hi' })).seq,
      1,
    );
  });

  it('opens a direct chat once, sends and reads history', async () => {
    const chat = await alice.conversations.openDirect('api_bob');
    assert.equal(chat.kind, 'direct');
    assert.deepEqual(chat.members?.map((m) => m.username).sort(), ['api_alice', 'api_bob']);
    assert.equal((await bob.conversations.openDirect('api_alice')).id, chat.id, 'the same chat');

    const first = await alice.messages.send(chat.id, 'rest-1', { kind: 'text', text: 'hi' });
    assert.deepEqual([first.seq, first.duplicate], [1, false]);
    const again = await alice.messages.send(chat.id, 'rest-1', { kind: 'text', text: 'hi' });
    assert.deepEqual([again.seq, again.id, again.duplicate], [1, first.id, true]);
    await alice.messages.send(chat.id, 'rest-2', { kind: 'text', text: 'there' });

    const page = await bob.messages.history(chat.id, { limit: 10 });
    assert.deepEqual(
      page.messages.map((m) => [m.seq, textOf(m.body), m.sender, m.recalled]),
      [
        [1, 'hi', ids.get('api_alice'), false],
        [2, 'there', ids.get('api_alice'), false],
      ],
    );
    assert.equal(page.hasMore, false);
    assert.deepEqual(await bob.conversations.markRead(chat.id, 2), { readSeq: 2, deliveredSeq: 2 });
    const listed = await bob.conversations.list();
    assert.equal(listed.find((c) => c.id === chat.id)?.unread, 0);
    await assert.rejects(carol.messages.history(chat.id), { code: 'not_member', status: 403 });
  });

  it('searches messages, in one conversation or in all, page by page', async () => {
    const chat = await alice.conversations.openDirect('api_bob');
    await alice.messages.send(chat.id, 'find-1', { kind: 'text', text: 'Bouldering on Sunday?' });
    await bob.messages.send(chat.id, 'find-2', { kind: 'text', text: 'Sunday works, bring chalk' });
    const page = await bob.messages.search('sunday', { conversation: chat.id, limit: 1 });
    assert.deepEqual(
      page.messages.map((m) => [textOf(m.body), m.sender, m.conversation]),
      [['Sunday works, bring chalk', ids.get('api_bob'), chat.id]],
    );
    assert.ok(page.next);
    const rest = await bob.messages.search('sunday', { before: page.next });
    assert.deepEqual(
      rest.messages.map((m) => textOf(m.body)),
      ['Bouldering on Sunday?'],
    );
    assert.equal(rest.next, null);
    await assert.rejects(bob.messages.search('?!'), { code: 'invalid_search', status: 400 });
    await assert.rejects(carol.messages.search('sunday', { conversation: chat.id }), {
      code: 'not_member',
    });
  });

  it('creates and manages a group', async () => {
    const group = await alice.groups.create({ title: 'Crag', members: ['api_bob', 'api_carol'] });
    assert.equal(group.kind, 'group');
    assert.equal(group.title, 'Crag');
    assert.equal(group.role, 'owner');
    const bobId = ids.get('api_bob')!;
    const carolId = ids.get('api_carol')!;

    const promoted = await alice.groups.role(group.id, bobId, 'admin');
    assert.equal(promoted.message.body.kind, 'system');
    assert.equal(eventOf(promoted.message.body), 'role.changed');
    await bob.groups.title(group.id, 'Crag crew');
    await bob.groups.mute(group.id, carolId, true);
    await assert.rejects(carol.messages.send(group.id, 'muted-1', { kind: 'text', text: 'x' }), {
      code: 'muted',
    });
    await bob.groups.remove(group.id, carolId);
    await assert.rejects(carol.groups.get(group.id), { code: 'not_member' });
    await alice.groups.add(group.id, ['api_carol']);
    const left = await carol.groups.leave(group.id);
    assert.equal(eventOf(left.message.body), 'member.left');

    const members = await alice.groups.members(group.id);
    assert.deepEqual(members.map((m) => [m.username, m.role]).sort(), [
      ['api_alice', 'owner'],
      ['api_bob', 'admin'],
    ]);
    const read = await alice.groups.get(group.id);
    assert.equal(read.title, 'Crag crew');
    await assert.rejects(bob.groups.dismiss(group.id), { code: 'forbidden', status: 403 });
    const dismissed = await alice.groups.dismiss(group.id);
    assert.equal(eventOf(dismissed.message.body), 'dismissed');
  });

  it('uploads an attachment that members of a chat where it was sent may download', async () => {
    const fromBytes = await alice.attachments.upload(PNG, {
      contentType: 'image/png',
      name: 'dot.png',
    });
    assert.equal(fromBytes.size, PNG.length);
    assert.equal(fromBytes.mime, 'image/png');
    assert.equal(fromBytes.name, 'dot.png');
    assert.deepEqual(await alice.attachments.meta(fromBytes.id), fromBytes);
    assert.equal(
      alice.attachments.url(fromBytes.id),
      `${server.url}/v1/attachments/${fromBytes.id}`,
    );

    const fromBlob = await alice.attachments.upload(new Blob([PNG], { type: 'image/png' }));
    assert.equal(fromBlob.sha256, fromBytes.sha256, 'the same bytes, the same hash');
    assert.equal(fromBlob.mime, 'image/png', 'the Blob’s own type is used');

    await assert.rejects(
      alice.attachments.upload(new TextEncoder().encode('<p>hi</p>'), { contentType: 'text/html' }),
      { code: 'unsupported_media_type', status: 415 },
    );
    await assert.rejects(bob.attachments.download(fromBytes.id), {
      code: 'attachment_not_found',
      status: 404,
    });

    const chat = await alice.conversations.openDirect('api_bob');
    await alice.messages.send(chat.id, 'img-1', {
      kind: 'image',
      attachment: fromBytes.id,
      width: 1,
      height: 1,
    });
    const blob = await bob.attachments.download(fromBytes.id);
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), PNG);
    assert.equal(blob.type, 'image/png');
  });

  it('reports an unreachable server as a temporary network error', async () => {
    const api = new ParleyApi({ url: 'http://127.0.0.1:1' });
    await assert.rejects(
      api.users.me(),
      (err: unknown) => err instanceof ParleyClientError && err.code === 'network' && err.temporary,
    );
  });
});

describe('ParleyApi device keys, behind a trusted proxy', () => {
  let server: TestServer;
  /** An API whose requests a proxy on loopback forwards from `where.ip`. */
  const apiFrom = (where: { ip: string }, deviceKey?: string) =>
    new ParleyApi({
      url: server.url,
      ...(deviceKey !== undefined ? { deviceKey } : {}),
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), 'x-forwarded-for': where.ip },
        }),
    });

  before(async () => {
    server = await startTestServer({
      PARLEY_TRUST_PROXY: 'loopback',
      PARLEY_LOGIN_USER_FAILURES_MAX: '2',
      PARLEY_LOGIN_REFILL_MS: '600000',
    });
  });

  after(async () => {
    await server.close();
  });

  it('keeps the device key from register and login, across a logout, and presents it at login', async () => {
    const phone = { ip: '198.51.100.30' };
    const api = apiFrom(phone);
    const registered = await api.register({ username: 'sdk_kim', password: PASSWORD, device: 'p' });
    assert.match(registered.deviceKey, /^dk_/);
    assert.equal(api.deviceKey, registered.deviceKey);
    for (const ip of ['203.0.113.1', '203.0.113.2']) {
      await assert.rejects(apiFrom({ ip }).login({ username: 'sdk_kim', password: 'nope nope' }), {
        code: 'invalid_credentials',
      });
    }
    const credentials = { username: 'sdk_kim', password: PASSWORD, device: 'p' };
    await assert.rejects(apiFrom({ ip: '192.0.2.30' }).login(credentials), {
      code: 'rate_limited',
      status: 429,
    });

    await api.logout();
    assert.equal(api.deviceKey, registered.deviceKey, 'a logout keeps the key');
    phone.ip = '192.0.2.31'; // the phone travels: an unknown address, its key proves it
    const again = await api.login(credentials);
    assert.notEqual(again.deviceKey, registered.deviceKey);
    assert.equal(api.deviceKey, again.deviceKey, 'the new key replaces the old one');

    const restored = apiFrom({ ip: '192.0.2.32' }, api.deviceKey);
    assert.equal((await restored.login(credentials)).user.username, 'sdk_kim');
  });
});
