// Proves over real sockets the rules of each group action of docs/groups.md: system messages in a dense seq stream, no management of direct conversations and rooms, the member limit, coded errors for no-ops, mutes, ownership transfer, dismissal, the history new and returning members see, and no recall of a system message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, ok } from '../test-support/rest.js';
import { RtClient } from '../test-support/rt-client.js';
import { GROUP_MEMBERS_MAX, groupsApi, groupsServer } from '../test-support/groups-api.js';

const server = groupsServer();
let seq = 0;
const { call, user, api, snapshot, cast } = groupsApi(server);

describe('group rules', () => {
  it('records each change as a system message in a dense seq stream', async () => {
    const g = await cast();
    await ok(api.send(g.member, g.id, 'hi'), 201);
    await ok(api.patch(g.admin, g.id, { title: 'T2' }));
    const messages = (await ok(api.history(g.owner, g.id))).messages;
    assert.deepEqual(
      messages.map((m: any) => m.seq),
      [1, 2, 3, 4],
    );
    assert.deepEqual(messages[0].body, {
      kind: 'system',
      event: 'role.changed',
      actor: g.owner.userId,
      targets: [g.admin.userId],
      role: 'admin',
    });
    assert.deepEqual(messages[1].body, {
      kind: 'system',
      event: 'member.removed',
      actor: g.owner.userId,
      targets: [g.removed.userId],
    });
    assert.deepEqual(messages[3].body, {
      kind: 'system',
      event: 'title.changed',
      actor: g.admin.userId,
      targets: [],
      title: 'T2',
    });
    const c = await ok(api.get(g.owner, g.id));
    assert.equal(c.title, 'T2');
    assert.equal(c.history, 'join');
    const byId = (x: readonly string[], y: readonly string[]) => (x[0]! < y[0]! ? -1 : 1);
    assert.deepEqual(
      c.members.map((m: any) => [m.id, m.role]).sort(byId),
      [
        [g.owner.userId, 'owner'],
        [g.admin.userId, 'admin'],
        [g.member.userId, 'member'],
        [g.blocked.userId, 'member'],
        [g.x.userId, 'member'],
      ].sort(byId),
    );
  });

  it('refuses to manage direct conversations and rooms with not_group (a room may only be left)', async () => {
    const [a, b] = await Promise.all([user('d'), user('d')]);
    const direct = await ok(
      call('POST', '/v1/conversations', a.token, { kind: 'direct', with: b.username }),
      201,
    );
    const room = await ok(
      call('POST', '/v1/conversations', a.token, { kind: 'room', name: `room-${++seq}` }),
      201,
    );
    for (const id of [direct.id as string, room.id as string]) {
      assertError(await api.patch(a, id, { title: 'x' }), 422, 'not_group');
      // Leaving a direct conversation is refused; a room can be left (messaging-routes.test.ts).
      if (id === direct.id) assertError(await api.remove(a, id, 'me'), 422, 'not_group');
      assertError(await api.remove(a, id, b), 422, 'not_group');
      assertError(await api.add(a, id, [b]), 422, 'not_group');
      assertError(await api.dismiss(a, id), 422, 'not_group');
      assert.equal((await ok(api.get(a, id))).lastSeq, 0);
    }
  });

  it('keeps a group within groupMembersMax', async () => {
    const owner = await user('o');
    const others = await Promise.all(
      Array.from({ length: GROUP_MEMBERS_MAX - 2 }, () => user('k')),
    );
    const id = (await ok(api.create(owner, 'Big', others), 201)).id as string;
    const [one, two] = await Promise.all([user('k'), user('k')]);
    assertError(await api.add(owner, id, [one, two]), 422, 'too_many_members');
    await ok(api.add(owner, id, [one]));
    assertError(await api.add(owner, id, [two]), 422, 'too_many_members');
    assert.equal((await ok(api.get(owner, id))).members.length, GROUP_MEMBERS_MAX);
  });

  it('answers coded errors for no-ops and unknown targets, storing nothing', async () => {
    const g = await cast();
    const before = await snapshot(g.owner, g.id);
    assertError(await api.add(g.owner, g.id, [g.member]), 409, 'already_member');
    assertError(await api.member(g.owner, g.id, g.admin, { role: 'admin' }), 409, 'no_change');
    assertError(await api.patch(g.owner, g.id, { title: 'Team' }), 409, 'no_change');
    assertError(
      await api.member(g.owner, g.id, g.stranger, { muted: true }),
      404,
      'member_not_found',
    );
    assertError(await api.remove(g.owner, g.id, g.removed), 404, 'member_not_found');
    assertError(
      await api.member(g.owner, g.id, g.x, { role: 'admin', muted: true }),
      400,
      'invalid_request',
    );
    assertError(await api.patch(g.owner, g.id, {}), 400, 'invalid_request');
    assertError(await api.patch(g.owner, g.id, { title: '  ' }), 400, 'invalid_request');
    assertError(
      await call('POST', `/v1/conversations/${g.id}/members`, g.owner.token, {
        members: ['nobody-here'],
      }),
      404,
      'user_not_found',
    );
    assertError(await api.patch(g.owner, 'c_nope', { title: 'x' }), 404, 'conversation_not_found');
    assert.deepEqual(await snapshot(g.owner, g.id), before);
  });

  it('silences a muted member, and every plain member while the group is muted', async () => {
    const g = await cast();
    await ok(api.member(g.admin, g.id, g.x, { muted: true }));
    assertError(await api.send(g.x, g.id, 'hi'), 403, 'muted');
    await ok(api.send(g.member, g.id, 'hi'), 201);
    await ok(api.member(g.admin, g.id, g.x, { muted: false }));
    await ok(api.send(g.x, g.id, 'back'), 201);

    await ok(api.patch(g.admin, g.id, { muted: true }));
    assertError(await api.send(g.member, g.id, 'hi'), 403, 'group_muted');
    await ok(api.send(g.admin, g.id, 'admins may'), 201);
    await ok(api.send(g.owner, g.id, 'the owner may'), 201);
    assert.equal((await ok(api.get(g.owner, g.id))).muted, true);
  });

  it('transfers ownership: the new owner rules, the old one becomes an admin and may leave', async () => {
    const g = await cast();
    await ok(api.member(g.owner, g.id, g.x, { role: 'owner' }));
    const roles = new Map(
      (await ok(api.get(g.x, g.id))).members.map((m: any) => [m.id, m.role] as const),
    );
    assert.equal(roles.get(g.x.userId), 'owner');
    assert.equal(roles.get(g.owner.userId), 'admin');
    assertError(await api.dismiss(g.owner, g.id), 403, 'forbidden');
    await ok(api.remove(g.owner, g.id, 'me'));
    await ok(api.remove(g.x, g.id, g.admin));
  });

  it('dismisses: no sends or changes any more, members still read; the last member leaving dismisses', async () => {
    const g = await cast();
    await ok(api.send(g.member, g.id, 'before'), 201);
    await ok(api.dismiss(g.owner, g.id));
    assertError(await api.send(g.owner, g.id, 'after'), 410, 'group_dismissed');
    assertError(await api.patch(g.owner, g.id, { title: 'x' }), 410, 'group_dismissed');
    assertError(await api.add(g.owner, g.id, [g.n]), 410, 'group_dismissed');
    const c = await ok(api.get(g.member, g.id));
    assert.equal(typeof c.dismissedAt, 'number');
    assert.equal((await ok(api.history(g.member, g.id))).messages.at(-1).body.event, 'dismissed');
    await ok(api.remove(g.owner, g.id, 'me'));

    const alone = await user('o');
    const id = (await ok(api.create(alone, 'Solo', []), 201)).id as string;
    const left = await ok(api.remove(alone, id, 'me'));
    assert.equal(left.message.body.event, 'member.left');
    assert.equal(left.message.body.dismissed, true);
    assert.equal((await ok(api.history(alone, id))).messages.length, 1);
  });

  it("shows new members history from their join unless the group's history is full", async () => {
    const g = await cast();
    await ok(api.send(g.owner, g.id, 'old news'), 201);
    await ok(api.add(g.admin, g.id, [g.n]));
    const joined = (await ok(api.history(g.n, g.id))).messages;
    assert.deepEqual(
      joined.map((m: any) => m.body.event),
      ['member.added'],
    );
    const unread = (await ok(api.list(g.n))).conversations.find((c: any) => c.id === g.id);
    assert.equal(unread.unread, 1, 'only its own addition is unread, not the history before');

    const owner = await user('o');
    const late = await user('l');
    const full = (await ok(api.create(owner, 'Open', [], 'full'), 201)).id as string;
    await ok(api.send(owner, full, 'welcome, everyone'), 201);
    await ok(api.add(owner, full, [late]));
    assert.equal((await ok(api.history(late, full))).messages.length, 2);
  });

  it('drops a removed member from the list and takes it back later with a fresh window', async () => {
    const g = await cast();
    const lists = (await ok(api.list(g.removed))).conversations.map((c: any) => c.id);
    assert.ok(!lists.includes(g.id));
    await ok(api.send(g.owner, g.id, 'while away'), 201);
    await ok(api.add(g.owner, g.id, [g.removed]));
    const back = (await ok(api.history(g.removed, g.id))).messages;
    assert.deepEqual(
      back.map((m: any) => m.body.event),
      ['member.added'],
    );
    await ok(api.send(g.removed, g.id, 'I am back'), 201);
  });

  it('refuses to recall a system message', async () => {
    const g = await cast();
    const rt = await RtClient.connect(server(), 'ws-json', g.owner.token, g.owner.device);
    try {
      const res = await rt.request({ type: 'recall', conversation: g.id, seq: 1 });
      assert.equal(res.type, 'error');
      assert.equal(res.type === 'error' ? res.code : '', 'forbidden');
    } finally {
      rt.drop();
    }
  });
});
