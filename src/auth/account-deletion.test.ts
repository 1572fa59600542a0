// Proves over real sockets what DELETE /v1/me does: a wrong password and an owned group with
// other members refuse it and change nothing; otherwise the account leaves its groups and rooms (a group it
// owns alone is dismissed), its contacts and requests end and its blocks lift (others' blocks of
// it stay), every device's link closes with 4401, everyone who showed its profile (direct peers,
// group members, contacts) gets a `profile` push with `deleted`, and it can no longer log in or
// be messaged (account_deleted), while the messages it sent stay and its username stays taken.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RtClient } from '../test-support/rt-client.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';

const PASSWORD = 'correct horse battery';

type Res = { status: number; json: any; text: string };
type U = { name: string; id: string; token: string; device: string };

function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
}

describe('account deletion', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.close();
  });

  const user = async (name: string): Promise<U> => {
    const r = await register(server.url, name, PASSWORD);
    return { name, id: r.userId, token: r.token, device: r.device };
  };
  const call = (who: U | null, method: string, path: string, body?: unknown): Promise<Res> =>
    http(method, `${server.url}${path}`, {
      ...(who ? { token: who.token } : {}),
      ...(body !== undefined ? { body } : {}),
    });
  const ok = async (who: U, method: string, path: string, body?: unknown) => {
    const res = await call(who, method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.text}`);
    return res.json;
  };
  const remove = (who: U, password: string) => call(who, 'DELETE', '/v1/me', { password });
  const names = async (who: U, path: string, key: string) =>
    ((await ok(who, 'GET', path))[key] as { user: { username: string } }[]).map(
      (e) => e.user.username,
    );
  const group = async (owner: U, title: string, members: U[]) =>
    (await ok(owner, 'POST', '/v1/conversations', {
      kind: 'group',
      title,
      members: members.map((m) => m.name),
    })) as { id: string };

  it('refuses a wrong password and an owned group with members, changing nothing', async () => {
    const ann = await user('del_ann');
    const ben = await user('del_ben');
    const owned = await group(ann, 'Ann’s', [ben]);
    assertError(await remove(ann, 'not the password'), 403, 'wrong_password');
    const refused = await remove(ann, PASSWORD);
    assertError(refused, 409, 'owner_must_transfer');
    assert.match(refused.json.error.message, /Ann’s/);
    assert.equal((await call(ann, 'GET', '/v1/me')).status, 200, 'still logged in');
    const members = await ok(ben, 'GET', `/v1/conversations/${owned.id}`);
    assert.equal(members.members.length, 2, 'nobody left');
    assertError(
      await call(null, 'DELETE', '/v1/me', { password: PASSWORD }),
      401,
      'unauthenticated',
    );
    assertError(await call(ann, 'DELETE', '/v1/me', {}), 400, 'invalid_request');

    // Once handed over, the deletion goes through.
    await ok(ann, 'PATCH', `/v1/conversations/${owned.id}/members/${ben.id}`, { role: 'owner' });
    assert.equal((await remove(ann, PASSWORD)).status, 204);
  });

  it('deletes the account and ends what it had, keeping what others hold', async () => {
    const alice = await user('del_alice');
    const [bob, carol, dave, erin, fay, gus, hal] = [
      await user('del_bob'),
      await user('del_carol'),
      await user('del_dave'),
      await user('del_erin'),
      await user('del_fay'),
      await user('del_gus'),
      await user('del_hal'),
    ];
    await ok(alice, 'PATCH', '/v1/me/profile', { displayName: 'Alice', bio: 'bye soon' });
    const direct = (await ok(alice, 'POST', '/v1/conversations', {
      kind: 'direct',
      with: bob.name,
    })) as { id: string };
    await ok(alice, 'POST', `/v1/conversations/${direct.id}/messages`, {
      ref: 'r1',
      body: { kind: 'text', text: 'last words' },
    });
    const carols = await group(carol, 'Carol’s', [alice, bob]);
    const alone = await group(alice, 'Just me', []);
    const lobby = (await ok(alice, 'POST', '/v1/conversations', {
      kind: 'room',
      name: 'porch',
    })) as {
      id: string;
    };
    await ok(bob, 'POST', '/v1/conversations', { kind: 'room', name: 'porch' });
    await ok(alice, 'POST', '/v1/contacts/requests', { username: dave.name });
    await ok(dave, 'POST', `/v1/contacts/requests/${alice.name}/accept`);
    await ok(erin, 'POST', '/v1/contacts/requests', { username: alice.name });
    await ok(alice, 'POST', '/v1/contacts/requests', { username: fay.name });
    await ok(alice, 'POST', `/v1/contacts/${gus.name}/block`);
    await ok(hal, 'POST', `/v1/contacts/${alice.name}/block`);

    const phone = await http('POST', `${server.url}/v1/auth/login`, {
      body: { username: alice.name, password: PASSWORD, device: 'phone' },
    });
    const links = {
      laptop: await RtClient.connect(server, 'ws-json', alice.token, alice.device),
      phone: await RtClient.connect(server, 'ws-proto', phone.json.token, 'phone'),
      bob: await RtClient.connect(server, 'ws-json', bob.token, bob.device),
      carol: await RtClient.connect(server, 'ws-json', carol.token, carol.device),
      dave: await RtClient.connect(server, 'ws-json', dave.token, dave.device),
    };
    try {
      assert.equal((await remove(alice, PASSWORD)).status, 204);

      // Every device is out, at once.
      for (const link of [links.laptop, links.phone]) assert.equal(await link.closed, 4401);
      assertError(await call(alice, 'GET', '/v1/me'), 401, 'unauthenticated');
      const login = await http('POST', `${server.url}/v1/auth/login`, {
        body: { username: alice.name, password: PASSWORD, device: 'laptop' },
      });
      assertError(login, 401, 'invalid_credentials');
      assertError(await call(bob, 'GET', `/v1/users/${alice.name}`), 404, 'user_not_found');
      const again = await http('POST', `${server.url}/v1/auth/register`, {
        body: { username: alice.name, password: PASSWORD },
      });
      assertError(again, 409, 'username_taken');

      // Pushes: the erased profile to her direct peer, her leaving to the group, the ended contact.
      const erased = await links.bob.waitFor((f) => f.type === 'profile' && f.user === alice.id);
      assert.deepEqual(
        { ...erased, at: 0 },
        { type: 'profile', user: alice.id, username: alice.name, deleted: true, at: 0 },
      );
      await links.carol.waitFor(
        (f) => f.type === 'member' && f.event === 'member.left' && f.actor === alice.id,
      );
      await links.dave.waitFor(
        (f) => f.type === 'contact' && f.event === 'removed' && f.from === alice.id,
      );
      // Everyone who showed her profile before is told: her group's members and her contact too.
      for (const link of [links.carol, links.dave]) {
        await link.waitFor((f) => f.type === 'profile' && f.user === alice.id && f.deleted);
      }

      // What others hold stays: her message in bob's history; she is a former member of carol's
      // group; the group she owned alone is dismissed.
      const history = await ok(bob, 'GET', `/v1/conversations/${direct.id}/messages`);
      assert.deepEqual(
        history.messages.map((m: { body: { text: string } }) => m.body.text),
        ['last words'],
      );
      const members = (await ok(carol, 'GET', `/v1/conversations/${carols.id}`)).members as {
        id: string;
      }[];
      assert.deepEqual(members.map((m) => m.id).sort(), [bob.id, carol.id].sort());
      const listed = (await ok(bob, 'GET', '/v1/conversations')).conversations as {
        id: string;
      }[];
      assert.ok(!listed.some((c) => c.id === alone.id));
      // She left the public room too: it no longer lists her.
      const porch = (await ok(bob, 'GET', `/v1/conversations/${lobby.id}`)).members as {
        id: string;
      }[];
      assert.deepEqual(
        porch.map((m) => m.id),
        [bob.id],
      );

      // Her relations ended; hal's block of her is hal's and stays.
      assert.deepEqual(await names(dave, '/v1/contacts', 'contacts'), []);
      assert.deepEqual(
        await names(erin, '/v1/contacts/requests?direction=outgoing', 'requests'),
        [],
      );
      assert.deepEqual(
        await names(fay, '/v1/contacts/requests?direction=incoming', 'requests'),
        [],
      );
      // Her block of gus was lifted: gus is told she is gone, not that he is blocked.
      assertError(
        await call(gus, 'POST', '/v1/contacts/requests', { username: alice.name }),
        410,
        'account_deleted',
      );
      assertError(
        await call(hal, 'POST', '/v1/contacts/requests', { username: alice.name }),
        403,
        'blocked',
      );
      assert.deepEqual(await names(hal, '/v1/contacts/blocked', 'blocked'), [alice.name]);

      // Nobody can message her any more, in her old conversation or a new one; nothing is stored.
      assertError(
        await call(bob, 'POST', `/v1/conversations/${direct.id}/messages`, {
          ref: 'after',
          body: { kind: 'text', text: 'are you there?' },
        }),
        410,
        'account_deleted',
      );
      const realtime = await links.bob.request({
        type: 'send',
        ref: 'after-rt',
        conversation: direct.id,
        body: { kind: 'text', text: 'hello?' },
      });
      assert.equal(realtime.type, 'error');
      assert.equal(realtime.code, 'account_deleted');
      assertError(
        await call(gus, 'POST', '/v1/conversations', { kind: 'direct', with: alice.name }),
        410,
        'account_deleted',
      );
      const after = await ok(bob, 'GET', `/v1/conversations/${direct.id}/messages`);
      assert.equal(after.messages.length, 1, 'nothing was stored');
    } finally {
      for (const link of Object.values(links)) link.drop();
    }
  });
});
