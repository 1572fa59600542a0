// Proves over real sockets that group invite codes follow docs/groups.md: joining with a valid code records a system message, pushes to every member and shows history from the join; revoked, replaced and malformed codes, a full group and a dismissed one are refused, changing nothing; direct conversations have no codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, ok, type TestUser as User } from '../test-support/rest.js';
import { RtClient } from '../test-support/rt-client.js';
import { GROUP_MEMBERS_MAX, groupsApi, groupsServer } from '../test-support/groups-api.js';

const server = groupsServer();
const { call, user, api, snapshot, cast } = groupsApi(server);

describe('invite codes', () => {
  const create = (u: User, id: string) => call('POST', `/v1/conversations/${id}/invite`, u.token);
  const revoke = (u: User, id: string) => call('DELETE', `/v1/conversations/${id}/invite`, u.token);

  it('joins with a valid code: a system message, a member push to all, history from the join', async () => {
    const g = await cast();
    await ok(api.send(g.owner, g.id, 'before the join'), 201);
    const [member, joiner] = await Promise.all([
      RtClient.connect(server(), 'ws-proto', g.member.token, g.member.device),
      RtClient.connect(server(), 'tcp', g.n.token, g.n.device),
    ]);
    try {
      const joined = await ok(api.join(g.n, g.code));
      assert.deepEqual(joined.message.body, {
        kind: 'system',
        event: 'member.joined',
        actor: g.n.userId,
        targets: [g.n.userId],
      });
      for (const rt of [member, joiner]) {
        const push = await rt.waitFor((f) => f.type === 'member');
        assert.deepEqual(push, {
          type: 'member',
          conversation: g.id,
          seq: joined.message.seq,
          event: 'member.joined',
          actor: g.n.userId,
          targets: [g.n.userId],
          at: joined.message.at,
        });
      }
      const sent = await ok(api.send(g.owner, g.id, 'welcome'), 201);
      await joiner.waitFor((f) => f.type === 'message' && f.seq === sent.seq);
    } finally {
      member.drop();
      joiner.drop();
    }
    const history = (await ok(api.history(g.n, g.id))).messages;
    assert.deepEqual(
      history.map((m: any) => m.body.event ?? m.body.text),
      ['member.joined', 'welcome'],
    );
    assert.ok((await ok(api.get(g.owner, g.id))).members.some((m: any) => m.id === g.n.userId));
  });

  it('refuses revoked, replaced and malformed codes, a full group and a dismissed one, changing nothing', async () => {
    const g = await cast();
    const first = g.code;
    const second = (await ok(create(g.admin, g.id), 201)).code as string;
    assert.notEqual(second, first);
    assert.match(second, /^[A-Za-z0-9_-]{16}$/);
    const before = await snapshot(g.owner, g.id);
    for (const code of [first, 'not-a-code', 'x'.repeat(16), '%F0%9F%91%8D']) {
      assertError(await api.join(g.n, code), 404, 'invite_not_found');
    }
    await ok(revoke(g.owner, g.id), 204);
    assertError(await api.join(g.n, second), 404, 'invite_not_found');
    assertError(await revoke(g.owner, g.id), 404, 'invite_not_found');
    assertError(await api.invite(g.owner, g.id), 404, 'invite_not_found');
    const after = await snapshot(g.owner, g.id);
    assert.deepEqual(after.messages, before.messages);
    assert.deepEqual(after.conversation, before.conversation);

    // Full: 5 current members of GROUP_MEMBERS_MAX (8); three more fill it.
    const code = (await ok(create(g.owner, g.id), 201)).code as string;
    const more = await Promise.all([user('k'), user('k'), user('k'), user('k')]);
    for (const u of more.slice(0, 3)) await ok(api.join(u, code));
    assertError(await api.join(more[3], code), 422, 'too_many_members');
    assert.equal((await ok(api.get(g.owner, g.id))).members.length, GROUP_MEMBERS_MAX);

    await ok(api.dismiss(g.owner, g.id));
    assertError(await api.join(g.stranger, code), 410, 'group_dismissed');
    assertError(await create(g.owner, g.id), 410, 'group_dismissed');
  });

  it('has no invite codes for direct conversations and rooms', async () => {
    const [a, b] = await Promise.all([user('d'), user('d')]);
    const direct = await ok(
      call('POST', '/v1/conversations', a.token, { kind: 'direct', with: b.username }),
      201,
    );
    assertError(await create(a, direct.id), 422, 'not_group');
    assertError(await api.invite(a, direct.id), 422, 'not_group');
  });
});
