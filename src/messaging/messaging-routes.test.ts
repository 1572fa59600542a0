// Proves over real sockets that the v1 conversation routes answer as documented (direct conversations, groups and rooms created, joined and left, listed and read one by one) and refuse bad input with their coded error while changing nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { assertError, client } from '../test-support/messaging-api.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('messaging routes', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  before(async () => {
    // The server of messaging-messages.test.ts, whose cases store 120 messages of one user at
    // once: above the REST send budget's default burst (100), which send-budget.test.ts covers.
    server = await startTestServer({ PARLEY_SEND_BURST_MAX: '1000' });
    api = client(server.url);
  });

  after(async () => {
    await server.close();
  });

  describe('POST /v1/conversations: direct', () => {
    it('creates once (201), then returns the same conversation (200) to either side', async () => {
      const a = await api.user('dm_a');
      const b = await api.user('dm_b');
      const first = await api.create(a.token, { kind: 'direct', with: 'dm_b' });
      assert.equal(first.status, 201, first.text);
      assert.equal(first.json.kind, 'direct');
      assert.equal(typeof first.json.id, 'string');
      assert.equal(first.json.lastSeq, 0);
      assert.equal(first.json.role, 'member');
      const members = [...first.json.members].sort((x: any, y: any) =>
        x.username.localeCompare(y.username),
      );
      assert.deepEqual(members, [
        { id: a.userId, username: 'dm_a', role: 'member', deliveredSeq: 0, readSeq: 0 },
        { id: b.userId, username: 'dm_b', role: 'member', deliveredSeq: 0, readSeq: 0 },
      ]);

      const again = await api.create(a.token, { kind: 'direct', with: 'dm_b' });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.id, first.json.id);

      const folded = await api.create(a.token, { kind: 'direct', with: 'DM_B' });
      assert.equal(folded.status, 200, folded.text);
      assert.equal(folded.json.id, first.json.id);

      const other = await api.create(b.token, { kind: 'direct', with: 'dm_a' });
      assert.equal(other.status, 200, other.text);
      assert.equal(other.json.id, first.json.id);
      assert.equal(other.json.members.length, 2);

      assert.deepEqual(await api.ids(a.token), [first.json.id]);
      assert.deepEqual(await api.ids(b.token), [first.json.id]);
    });

    it('refuses an unknown user (404 user_not_found) and oneself (400), creating nothing', async () => {
      const a = await api.user('dm_lonely');
      assertError(
        await api.create(a.token, { kind: 'direct', with: 'dm_nobody' }),
        404,
        'user_not_found',
      );
      assertError(
        await api.create(a.token, { kind: 'direct', with: 'dm_lonely' }),
        400,
        'invalid_request',
      );
      assertError(
        await api.create(a.token, { kind: 'direct', with: 'DM_Lonely' }),
        400,
        'invalid_request',
      );
      assertError(
        await api.create(a.token, { kind: 'direct', with: 'not a name' }),
        400,
        'invalid_username',
      );
      assert.deepEqual(await api.ids(a.token), []);
    });
  });

  describe('POST /v1/conversations: group', () => {
    it('creates a group (201) with the caller as owner and the others as members', async () => {
      const owner = await api.user('grp_owner');
      const m1 = await api.user('grp_m1');
      const m2 = await api.user('grp_m2');
      const res = await api.create(owner.token, {
        kind: 'group',
        title: 'Team chat',
        members: ['grp_m1', 'GRP_M2', 'grp_m1', 'grp_owner'],
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.kind, 'group');
      assert.equal(res.json.title, 'Team chat');
      assert.equal(res.json.role, 'owner');
      assert.equal(res.json.lastSeq, 0);
      const roles = Object.fromEntries(
        (res.json.members as { id: string; username: string; role: string }[]).map((m) => [
          m.username,
          [m.id, m.role],
        ]),
      );
      assert.deepEqual(roles, {
        grp_owner: [owner.userId, 'owner'],
        grp_m1: [m1.userId, 'member'],
        grp_m2: [m2.userId, 'member'],
      });
      const seen = await api.get(m1.token, res.json.id);
      assert.equal(seen.status, 200, seen.text);
      assert.equal(seen.json.role, 'member');
      assert.deepEqual(await api.ids(m2.token), [res.json.id]);
    });

    it('refuses an unknown member with 404 user_not_found and creates no group', async () => {
      const owner = await api.user('grp_unk_owner');
      const m1 = await api.user('grp_unk_m1');
      const before_ = await api.ids(owner.token);
      const res = await api.create(owner.token, {
        kind: 'group',
        title: 'Ghosts',
        members: ['grp_unk_m1', 'grp_unk_nobody'],
      });
      assertError(res, 404, 'user_not_found');
      assert.deepEqual(await api.ids(owner.token), before_);
      assert.deepEqual(await api.ids(m1.token), []);
    });

    it('refuses a missing, empty or overlong title and bad members with 400', async () => {
      const owner = await api.user('grp_bad_owner');
      await api.user('grp_bad_m1');
      const bodies: unknown[] = [
        { kind: 'group', members: ['grp_bad_m1'] },
        { kind: 'group', title: '', members: ['grp_bad_m1'] },
        { kind: 'group', title: '   ', members: ['grp_bad_m1'] },
        { kind: 'group', title: 't'.repeat(129), members: ['grp_bad_m1'] },
        { kind: 'group', title: 5, members: ['grp_bad_m1'] },
        { kind: 'group', title: 'No members' },
        { kind: 'group', title: 'Bad members', members: 'grp_bad_m1' },
        { kind: 'group', title: 'Bad members', members: [5] },
      ];
      for (const body of bodies) {
        assertError(await api.create(owner.token, body), 400, 'invalid_request');
      }
      assertError(
        await api.create(owner.token, { kind: 'group', title: 'x', members: ['bad name'] }),
        400,
        'invalid_username',
      );
      assert.deepEqual(await api.ids(owner.token), []);
    });
  });

  describe('POST /v1/conversations: room', () => {
    it('creates a room (201) and lets another user join it (200, same id)', async () => {
      const a = await api.user('room_a');
      const b = await api.user('room_b');
      const first = await api.create(a.token, { kind: 'room', name: 'lobby-1' });
      assert.equal(first.status, 201, first.text);
      assert.equal(first.json.kind, 'room');
      assert.equal(first.json.name, 'lobby-1');
      assert.equal(first.json.role, 'member');
      const joined = await api.create(b.token, { kind: 'room', name: 'lobby-1' });
      assert.equal(joined.status, 200, joined.text);
      assert.equal(joined.json.id, first.json.id);
      assert.deepEqual(
        (joined.json.members as { username: string }[]).map((m) => m.username).sort(),
        ['room_a', 'room_b'],
      );
      const rejoin = await api.create(a.token, { kind: 'room', name: 'lobby-1' });
      assert.equal(rejoin.status, 200, rejoin.text);
      assert.equal(rejoin.json.id, first.json.id);
      assert.equal(rejoin.json.members.length, 2);
    });

    it('lets a member leave a room silently (200, no message) and join it again', async () => {
      const a = await api.user('porch_a');
      const b = await api.user('porch_b');
      const room = (await api.create(a.token, { kind: 'room', name: 'porch-1' })).json.id as string;
      await api.create(b.token, { kind: 'room', name: 'porch-1' });
      assert.equal((await api.text(a.token, room, 'p1', 'before')).status, 201);
      const leave = (token: string) =>
        http('DELETE', `${server.url}/v1/conversations/${room}/members/me`, { token });
      const left = await leave(b.token);
      assert.equal(left.status, 200, left.text);
      assert.deepEqual(left.json, { message: null });
      assert.equal((await leave(b.token)).status, 200, 'leaving again changes nothing');

      const listed = (await api.list(b.token)).json.conversations as { id: string }[];
      assert.ok(!listed.some((c) => c.id === room), 'gone from its list');
      const members = (await api.get(a.token, room)).json.members as { username: string }[];
      assert.deepEqual(
        members.map((m) => m.username),
        ['porch_a'],
      );
      const page = await api.history(a.token, room);
      assert.deepEqual(
        page.json.messages.map((m: { body: { kind: string } }) => m.body.kind),
        ['text'],
        'no system message',
      );
      assertError(await api.text(b.token, room, 'p2', 'hello?'), 403, 'not_member');
      assert.equal((await api.text(a.token, room, 'p3', 'after')).status, 201);

      const back = await api.create(b.token, { kind: 'room', name: 'porch-1' });
      assert.equal(back.status, 200, back.text);
      assert.equal((await api.text(b.token, room, 'p4', 'back')).status, 201);
      const stranger = await api.user('porch_c');
      assertError(await leave(stranger.token), 403, 'not_member');
    });

    it('refuses an empty, overlong or unprintable room name with 400 invalid_request', async () => {
      const a = await api.user('room_bad');
      for (const name of ['', 'r'.repeat(129), 'bad\nname', 'tab\tname', 5]) {
        assertError(await api.create(a.token, { kind: 'room', name }), 400, 'invalid_request');
      }
      assert.deepEqual(await api.ids(a.token), []);
    });
  });

  describe('POST /v1/conversations: bad requests', () => {
    it('refuses an unknown kind or a body of the wrong shape with 400 invalid_request', async () => {
      const a = await api.user('conv_bad');
      await api.user('conv_bad_peer');
      const bodies: unknown[] = [
        { kind: 'channel', name: 'x' },
        { name: 'x' },
        { kind: 'direct' },
        { kind: 'direct', with: 5 },
        { kind: 'room' },
        [],
        'null',
      ];
      for (const body of bodies) {
        assertError(await api.create(a.token, body), 400, 'invalid_request');
      }
      assertError(await api.create(a.token, '{"kind":'), 400, 'invalid_json');
      assert.deepEqual(await api.ids(a.token), []);
    });

    it('refuses a request without a valid token with 401 unauthenticated', async () => {
      const a = await api.user('conv_noauth');
      await api.user('conv_noauth_peer');
      const body = { kind: 'direct', with: 'conv_noauth_peer' };
      assertError(await api.create(undefined, body), 401, 'unauthenticated');
      assertError(await api.create('pt_garbage', body), 401, 'unauthenticated');
      assertError(await api.list(undefined), 401, 'unauthenticated');
      assertError(await api.get(undefined, 'cWhatever'), 401, 'unauthenticated');
      assert.deepEqual(await api.ids(a.token), []);
    });

    it('answers 401, not 400, to an unauthenticated request with a bad body', async () => {
      assertError(await api.create(undefined, { kind: 'bogus' }), 401, 'unauthenticated');
      assertError(await api.create(undefined, '{"kind":'), 401, 'unauthenticated');
    });
  });

  describe('GET /v1/conversations and /v1/conversations/:id', () => {
    it("lists only the caller's conversations, most recent activity first", async () => {
      const x = await api.user('list_x');
      const y = await api.user('list_y');
      const z = await api.user('list_z');
      const outsider = await api.user('list_out');
      await api.user('list_out_peer');
      const other = await api.open(outsider.token, { kind: 'direct', with: 'list_out_peer' });

      const direct = await api.open(x.token, { kind: 'direct', with: 'list_y' });
      await pause(5);
      const group = await api.open(x.token, {
        kind: 'group',
        title: 'List',
        members: ['list_y', 'list_z'],
      });
      await pause(5);
      const room = await api.open(x.token, { kind: 'room', name: 'list-room' });
      // Newest created first while nothing is sent.
      assert.deepEqual(await api.ids(x.token), [room, group, direct]);

      await pause(5);
      assert.equal((await api.text(y.token, group, 'l-1', 'hello group')).status, 201);
      await pause(5);
      assert.equal((await api.text(x.token, direct, 'l-2', 'hello y')).status, 201);
      assert.equal((await api.text(y.token, direct, 'l-3', 'hello x')).status, 201);

      assert.deepEqual(await api.ids(x.token), [direct, group, room]);
      assert.deepEqual(await api.ids(y.token), [direct, group]);
      assert.deepEqual(await api.ids(z.token), [group]);
      assert.ok(!(await api.ids(x.token)).includes(other));

      const listed = (await api.list(x.token)).json.conversations as any[];
      const byId = new Map(listed.map((c) => [c.id, c]));
      assert.equal(byId.get(direct).lastSeq, 2);
      // x's own message (seq 1) counts as read; y's (seq 2) does not.
      assert.equal(byId.get(direct).readSeq, 1);
      assert.equal(byId.get(direct).unread, 1);
      assert.equal(byId.get(group).lastSeq, 1);
      assert.equal(byId.get(group).unread, 1);
      assert.equal(byId.get(group).role, 'owner');
      assert.equal(byId.get(room).lastSeq, 0);
      assert.equal(byId.get(room).unread, 0);
      assert.equal(byId.get(room).name, 'list-room');
      for (const c of listed) {
        assert.equal(c.unread, c.lastSeq - c.readSeq);
        assert.equal(c.members, undefined);
      }
    });

    it('returns a conversation with its members to a member only', async () => {
      const a = await api.user('get_a');
      const b = await api.user('get_b');
      const stranger = await api.user('get_stranger');
      const id = await api.open(a.token, { kind: 'direct', with: 'get_b' });

      const res = await api.get(b.token, id);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.id, id);
      assert.equal(res.json.kind, 'direct');
      assert.deepEqual(
        (res.json.members as { id: string }[]).map((m) => m.id).sort(),
        [a.userId, b.userId].sort(),
      );

      assertError(await api.get(stranger.token, id), 403, 'not_member');
      assertError(await api.get(a.token, 'cNoSuchConversation'), 404, 'conversation_not_found');
      assertError(await api.get(a.token, 'c'.repeat(65)), 400, 'invalid_request');
      assert.deepEqual(await api.ids(stranger.token), []);
    });
  });
});
