// Proves over real sockets who may download a group's attachments: the group avatar (set and cleared with a system message and a push, downloadable by members, refused when not the admin's to use) and the attachments a former member saw while a member, not those sent after its removal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { assertError, ok, type TestUser as User } from '../test-support/rest.js';
import { RtClient } from '../test-support/rt-client.js';
import { GROUP_MEMBERS_MAX, groupsApi } from '../test-support/groups-api.js';

let server: TestServer;
let url: string;
let seq = 0;
const { call, api, snapshot, cast, uploadImage } = groupsApi(() => server);

before(async () => {
  server = await startTestServer({
    PARLEY_GROUP_MEMBERS_MAX: String(GROUP_MEMBERS_MAX),
    PARLEY_TCP_PORT: '0',
  });
  url = server.url;
});

after(async () => {
  await server.close();
});

describe('group avatar', () => {
  it('sets and clears the avatar with a system message and a member push; members may download it', async () => {
    const g = await cast();
    const avatar = await uploadImage(g.admin);
    assert.equal(
      (await http('GET', `${url}/v1/attachments/${avatar}`, { token: g.member.token })).status,
      404,
    );
    const rt = await RtClient.connect(server, 'ws-json', g.member.token, g.member.device);
    try {
      const set = await ok(api.patch(g.admin, g.id, { avatar }));
      assert.deepEqual(set.message.body, {
        kind: 'system',
        event: 'avatar.changed',
        actor: g.admin.userId,
        targets: [],
        avatar,
      });
      const push = await rt.waitFor((f) => f.type === 'member');
      assert.equal(push.event, 'avatar.changed');
      assert.equal(push.avatar, avatar);
      assert.equal((await ok(api.get(g.member, g.id))).avatar, avatar);
      const listed = (await ok(api.list(g.member))).conversations.find((c: any) => c.id === g.id);
      assert.equal(listed.avatar, avatar);
      const synced = await rt.request({ type: 'sync' });
      assert.equal(synced.conversations.find((c: any) => c.id === g.id).avatar, avatar);
      const download = await http('GET', `${url}/v1/attachments/${avatar}`, {
        token: g.member.token,
      });
      assert.equal(download.status, 200, 'members may download the avatar');
      assertError(await api.patch(g.admin, g.id, { avatar }), 409, 'no_change');

      const cleared = await ok(api.patch(g.owner, g.id, { avatar: null }));
      assert.equal(cleared.message.body.avatar, null);
      const second = await rt.waitFor((f) => f.type === 'member' && f.seq === cleared.message.seq);
      assert.equal(second.avatar, undefined, 'a cleared avatar is absent from the push');
      assert.equal((await ok(api.get(g.member, g.id))).avatar, null);
    } finally {
      rt.drop();
    }
  });

  it('refuses an attachment the admin may not use, and a member setting one, storing nothing', async () => {
    const g = await cast();
    const strangers = await uploadImage(g.stranger);
    const members = await uploadImage(g.member);
    const before = await snapshot(g.owner, g.id);
    assertError(await api.patch(g.admin, g.id, { avatar: strangers }), 404, 'attachment_not_found');
    assertError(
      await api.patch(g.admin, g.id, { avatar: 'a-missing' }),
      404,
      'attachment_not_found',
    );
    assertError(await api.patch(g.admin, g.id, { avatar: 'bad id!' }), 400, 'invalid_request');
    assertError(await api.patch(g.member, g.id, { avatar: members }), 403, 'forbidden');
    assert.deepEqual(await snapshot(g.owner, g.id), before);
    // The member's refused try recorded no use: others still cannot download its upload.
    const got = await http('GET', `${url}/v1/attachments/${members}`, { token: g.admin.token });
    assert.equal(got.status, 404);
  });
});

describe('attachments of former members', () => {
  it('downloads what was sent while a member, not what was sent after its removal', async () => {
    const g = await cast();
    const sendImage = async (attachment: string) =>
      ok(
        call('POST', `/v1/conversations/${g.id}/messages`, g.owner.token, {
          ref: `img-${++seq}`,
          body: { kind: 'image', attachment },
        }),
        201,
      );
    const during = await uploadImage(g.owner);
    await sendImage(during);
    const get = (u: User, id: string) =>
      http('GET', `${url}/v1/attachments/${id}`, { token: u.token });
    assert.equal((await get(g.x, during)).status, 200);
    await ok(api.remove(g.owner, g.id, g.x));
    const later = await uploadImage(g.owner);
    await sendImage(later);
    assert.equal((await get(g.x, during)).status, 200, 'sent while it was a member');
    assert.equal((await get(g.x, later)).status, 404, 'sent after its removal');
    assert.equal((await get(g.member, later)).status, 200);
    assert.equal((await get(g.stranger, during)).status, 404);
    // The removed member of the cast left before either was sent.
    assert.equal((await get(g.removed, during)).status, 404);
  });
});
