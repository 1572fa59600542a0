// Proves over real sockets that every v1 conversation and message route answers as documented, refuses bad input with its coded error while changing nothing, and numbers messages densely under concurrency.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';

const PASSWORD = 'correct horse battery';
const MESSAGE_KEYS = ['at', 'body', 'conversation', 'device', 'id', 'sender', 'seq'];

interface User {
  readonly token: string;
  readonly userId: string;
  readonly device: string;
  readonly username: string;
}

type Res = { status: number; json: any; text: string };

/** Asserts an error response: its status, its code, and that it carries no stack. */
function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.doesNotMatch(res.text, /"stack"|\n\s+at /);
}

/** A client of one server: each call is one real HTTP request. */
function client(url: string) {
  const opts = (token: string | undefined, body?: unknown) => ({
    ...(token !== undefined ? { token } : {}),
    ...(body !== undefined ? { body } : {}),
  });
  const api = {
    async user(username: string, device?: string): Promise<User> {
      const u = await register(url, username, PASSWORD, device);
      return { ...u, username };
    },
    async login(username: string, device: string): Promise<User> {
      const res = await http('POST', `${url}/v1/auth/login`, {
        body: { username, password: PASSWORD, device },
      });
      assert.equal(res.status, 200, res.text);
      return { token: res.json.token, userId: res.json.user.id, device, username };
    },
    create: (token: string | undefined, body: unknown): Promise<Res> =>
      http('POST', `${url}/v1/conversations`, opts(token, body)),
    list: (token: string | undefined): Promise<Res> =>
      http('GET', `${url}/v1/conversations`, opts(token)),
    get: (token: string | undefined, id: string): Promise<Res> =>
      http('GET', `${url}/v1/conversations/${encodeURIComponent(id)}`, opts(token)),
    send: (token: string | undefined, id: string, body: unknown): Promise<Res> =>
      http('POST', `${url}/v1/conversations/${encodeURIComponent(id)}/messages`, opts(token, body)),
    text: (token: string, id: string, ref: string, text: string): Promise<Res> =>
      api.send(token, id, { ref, body: { kind: 'text', text } }),
    history: (token: string | undefined, id: string, query = ''): Promise<Res> =>
      http(
        'GET',
        `${url}/v1/conversations/${encodeURIComponent(id)}/messages${query ? '?' + query : ''}`,
        opts(token),
      ),
    read: (token: string | undefined, id: string, body: unknown): Promise<Res> =>
      http('POST', `${url}/v1/conversations/${encodeURIComponent(id)}/read`, opts(token, body)),

    /** Creates a conversation and returns its id, asserting success. */
    async open(token: string, body: unknown): Promise<string> {
      const res = await api.create(token, body);
      assert.ok(res.status === 201 || res.status === 200, res.text);
      return res.json.id as string;
    },
    /** The conversation's lastSeq as a member sees it. */
    async lastSeq(token: string, id: string): Promise<number> {
      const res = await api.get(token, id);
      assert.equal(res.status, 200, res.text);
      return res.json.lastSeq as number;
    },
    /** The ids of the caller's conversations, in listed order. */
    async ids(token: string): Promise<string[]> {
      const res = await api.list(token);
      assert.equal(res.status, 200, res.text);
      return (res.json.conversations as { id: string }[]).map((c) => c.id);
    },
    /** Sends `count` texts one after another; returns their seqs. */
    async fill(user: User, id: string, count: number, prefix: string): Promise<number[]> {
      const seqs: number[] = [];
      for (let i = 1; i <= count; i++) {
        const res = await api.text(user.token, id, `${prefix}-${i}`, `${prefix} ${i}`);
        assert.equal(res.status, 201, res.text);
        seqs.push(res.json.seq as number);
      }
      return seqs;
    },
    /** Every message of a conversation, read forward in pages of 100. */
    async all(token: string, id: string): Promise<any[]> {
      const out: any[] = [];
      let cursor = 0;
      for (;;) {
        const res = await api.history(token, id, `after=${cursor}&limit=100`);
        assert.equal(res.status, 200, res.text);
        out.push(...res.json.messages);
        if (!res.json.hasMore) return out;
        cursor = res.json.messages.at(-1).seq;
      }
    },
  };
  return api;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const seqsOf = (res: Res): number[] => (res.json.messages as { seq: number }[]).map((m) => m.seq);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('messaging routes', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  before(async () => {
    // Some cases store 120 messages of one user at once: above the REST send budget's default
    // burst (100), which send-budget.test.ts covers.
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

  describe('POST /v1/conversations/:id/messages', () => {
    it('stores with dense seqs and answers a repeated ref with the original (200, duplicate)', async () => {
      const a = await api.user('send_a', 'phone');
      await api.user('send_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_b' });

      const sent: any[] = [];
      for (const i of [1, 2, 3]) {
        const res = await api.text(a.token, id, `ref-${i}`, `message ${i}`);
        assert.equal(res.status, 201, res.text);
        assert.deepEqual(Object.keys(res.json).sort(), ['at', 'duplicate', 'id', 'seq']);
        assert.equal(res.json.seq, i);
        assert.equal(res.json.duplicate, false);
        assert.equal(typeof res.json.id, 'string');
        assert.ok(Number.isInteger(res.json.at) && res.json.at > 0);
        sent.push(res.json);
      }
      assert.equal(new Set(sent.map((m) => m.id)).size, 3);

      const again = await api.text(a.token, id, 'ref-2', 'a different text');
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(again.json, { ...sent[1], duplicate: true });
      assert.equal(await api.lastSeq(a.token, id), 3);
      const stored = await api.all(a.token, id);
      assert.deepEqual(
        stored.map((m) => m.body.text),
        ['message 1', 'message 2', 'message 3'],
      );
    });

    it('treats the same ref from another device or user as a new message', async () => {
      const a = await api.user('send_dev', 'phone');
      const b = await api.user('send_dev_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_dev_b' });
      const first = await api.text(a.token, id, 'same-ref', 'from phone');
      assert.equal(first.status, 201, first.text);

      const laptop = await api.login('send_dev', 'laptop');
      const second = await api.text(laptop.token, id, 'same-ref', 'from laptop');
      assert.equal(second.status, 201, second.text);
      assert.equal(second.json.duplicate, false);
      assert.equal(second.json.seq, 2);
      assert.notEqual(second.json.id, first.json.id);

      const third = await api.text(b.token, id, 'same-ref', 'from b');
      assert.equal(third.status, 201, third.text);
      assert.equal(third.json.seq, 3);

      const messages = await api.all(a.token, id);
      assert.deepEqual(
        messages.map((m) => [m.seq, m.sender, m.device]),
        [
          [1, a.userId, 'phone'],
          [2, a.userId, 'laptop'],
          [3, b.userId, b.device],
        ],
      );
    });

    it('refuses a ref reused in another conversation with 409 ref_reused', async () => {
      const a = await api.user('reuse_a');
      await api.user('reuse_b');
      const one = await api.open(a.token, { kind: 'direct', with: 'reuse_b' });
      const two = await api.open(a.token, { kind: 'room', name: 'reuse-room' });
      assert.equal((await api.text(a.token, one, 'reused', 'first')).status, 201);
      assertError(await api.text(a.token, two, 'reused', 'second'), 409, 'ref_reused');
      assert.equal(await api.lastSeq(a.token, two), 0);
      assert.equal(await api.lastSeq(a.token, one), 1);
    });

    it('refuses a non-member (403) and an unknown conversation (404), storing nothing', async () => {
      const a = await api.user('send_err_a');
      await api.user('send_err_b');
      const stranger = await api.user('send_err_x');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_err_b' });
      await api.fill(a, id, 2, 'pre');

      assertError(await api.text(stranger.token, id, 'x-1', 'let me in'), 403, 'not_member');
      assertError(
        await api.text(a.token, 'cNoSuchConversation', 'x-2', 'hello?'),
        404,
        'conversation_not_found',
      );
      assert.equal(await api.lastSeq(a.token, id), 2);
      // Refused refs were not consumed: both still send normally.
      const retry = await api.text(a.token, id, 'x-2', 'now here');
      assert.equal(retry.status, 201, retry.text);
      assert.equal(retry.json.seq, 3);
    });

    it('refuses bad refs, bodies and types with 400, storing nothing', async () => {
      const a = await api.user('send_bad');
      await api.user('send_bad_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'send_bad_b' });
      await api.fill(a, id, 1, 'pre');
      const text = { kind: 'text', text: 'hi' };

      const invalid: unknown[] = [
        { body: text },
        { ref: '', body: text },
        { ref: 'r'.repeat(65), body: text },
        { ref: 5, body: text },
        { ref: 'ok-ref' },
        { ref: 'ok-ref', body: 'hi' },
        { ref: 'ok-ref', body: ['hi'] },
        { ref: 'ok-ref', body: null },
        { ref: 'ok-ref', body: { text: 'no kind' } },
        { ref: 'ok-ref', body: { kind: 'sticker', text: 'hi' } },
        { ref: 'ok-ref', body: { kind: 5, text: 'hi' } },
        { ref: 'ok-ref', body: { kind: 'text' } },
        { ref: 'ok-ref', body: { kind: 'text', text: '' } },
        { ref: 'ok-ref', body: { kind: 'text', text: 5 } },
        [],
      ];
      for (const body of invalid) {
        assertError(await api.send(a.token, id, body), 400, 'invalid_request');
      }
      assertError(await api.send(a.token, id, '{"ref": "x", "body": {'), 400, 'invalid_json');
      assertError(
        await api.send(undefined, id, { ref: 'ok-ref', body: text }),
        401,
        'unauthenticated',
      );
      assert.equal(await api.lastSeq(a.token, id), 1);

      // The edges of the ref length are accepted, and ok-ref was never consumed.
      const r64 = await api.text(a.token, id, 'r'.repeat(64), 'long ref');
      assert.equal(r64.status, 201, r64.text);
      const ok = await api.text(a.token, id, 'ok-ref', 'fine');
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.json.seq, 3);
    });

    it('gives 50 concurrent sends from two users the seqs 1..50 exactly', async () => {
      const a = await api.user('conc_a');
      const b = await api.user('conc_b');
      const id = await api.open(a.token, { kind: 'direct', with: 'conc_b' });
      const results = await Promise.all(
        range(1, 50).map((i) => {
          const who = i % 2 === 0 ? a : b;
          return api.text(who.token, id, `conc-${i}`, `concurrent ${i}`);
        }),
      );
      for (const res of results) assert.equal(res.status, 201, res.text);
      const seqs = results.map((r) => r.json.seq as number).sort((x, y) => x - y);
      assert.deepEqual(seqs, range(1, 50));
      assert.equal(new Set(results.map((r) => r.json.id)).size, 50);
      assert.equal(await api.lastSeq(a.token, id), 50);

      const stored = await api.all(b.token, id);
      assert.deepEqual(
        stored.map((m) => m.seq),
        range(1, 50),
      );
      const bySeq = new Map(results.map((r) => [r.json.seq, r.json.id]));
      for (const m of stored) assert.equal(m.id, bySeq.get(m.seq));
      for (let i = 1; i < stored.length; i++) assert.ok(stored[i].at >= stored[i - 1].at);
    });
  });

  describe('GET /v1/conversations/:id/messages', () => {
    let alice: User;
    let bob: User;
    let stranger: User;
    let conv: string;

    before(async () => {
      alice = await api.user('hist_alice', 'web');
      bob = await api.user('hist_bob');
      stranger = await api.user('hist_stranger');
      conv = await api.open(alice.token, { kind: 'direct', with: 'hist_bob' });
      assert.deepEqual(await api.fill(alice, conv, 25, 'h'), range(1, 25));
    });

    it('returns the newest page by default (limit 10, ascending, hasMore)', async () => {
      const res = await api.history(bob.token, conv);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(seqsOf(res), range(16, 25));
      assert.equal(res.json.hasMore, true);
    });

    it('returns full message objects', async () => {
      const res = await api.history(bob.token, conv, 'after=0&limit=1');
      assert.equal(res.status, 200, res.text);
      const [m] = res.json.messages;
      for (const key of MESSAGE_KEYS) assert.ok(key in m, `message lacks ${key}`);
      assert.equal(m.conversation, conv);
      assert.equal(m.seq, 1);
      assert.equal(m.sender, alice.userId);
      assert.equal(m.device, 'web');
      assert.deepEqual(m.body, { kind: 'text', text: 'h 1' });
      assert.ok(Number.isInteger(m.at) && m.at > 0);
      assert.equal(typeof m.id, 'string');
    });

    it('pages forward with after= and covers every message exactly once', async () => {
      const first = await api.history(bob.token, conv, 'after=0&limit=10');
      assert.deepEqual(seqsOf(first), range(1, 10));
      assert.equal(first.json.hasMore, true);

      const seen: number[] = [];
      let cursor = 0;
      let pages = 0;
      for (;;) {
        const res = await api.history(bob.token, conv, `after=${cursor}&limit=10`);
        assert.equal(res.status, 200, res.text);
        seen.push(...seqsOf(res));
        pages++;
        if (!res.json.hasMore) break;
        cursor = seqsOf(res).at(-1)!;
      }
      assert.deepEqual(seen, range(1, 25));
      assert.equal(pages, 3);
    });

    it('pages backward with before= and covers every message exactly once', async () => {
      const first = await api.history(bob.token, conv, 'before=26&limit=10');
      assert.deepEqual(seqsOf(first), range(16, 25));
      assert.equal(first.json.hasMore, true);

      const pages: number[][] = [];
      let cursor = 26;
      for (;;) {
        const res = await api.history(bob.token, conv, `before=${cursor}&limit=10`);
        assert.equal(res.status, 200, res.text);
        const seqs = seqsOf(res);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
        );
        pages.push(seqs);
        if (!res.json.hasMore) break;
        cursor = seqs[0]!;
      }
      assert.deepEqual(pages, [range(16, 25), range(6, 15), range(1, 5)]);
    });

    it('honours after= and before= together', async () => {
      const res = await api.history(bob.token, conv, 'after=5&before=11');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(seqsOf(res), range(6, 10));
      assert.equal(res.json.hasMore, false);
      const empty = await api.history(bob.token, conv, 'after=5&before=6');
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(empty.json, { messages: [], hasMore: false });
    });

    it('refuses a limit of 0, negative or non-integer, and bad cursors, with 400', async () => {
      for (const query of [
        'limit=0',
        'limit=-1',
        'limit=1.5',
        'limit=ten',
        'after=-1',
        'before=-5',
        'after=x',
      ]) {
        assertError(await api.history(bob.token, conv, query), 400, 'invalid_request');
      }
    });

    it('refuses a non-member (403), an unknown conversation (404) and no token (401)', async () => {
      assertError(await api.history(stranger.token, conv), 403, 'not_member');
      assertError(await api.history(stranger.token, conv, 'after=0&limit=5'), 403, 'not_member');
      assertError(
        await api.history(alice.token, 'cNoSuchConversation'),
        404,
        'conversation_not_found',
      );
      assertError(await api.history(undefined, conv), 401, 'unauthenticated');
    });

    it('checks membership even when after= and before= leave nothing between them', async () => {
      assertError(await api.history(stranger.token, conv, 'after=5&before=6'), 403, 'not_member');
      assertError(
        await api.history(alice.token, 'cNoSuchConversation', 'after=5&before=6'),
        404,
        'conversation_not_found',
      );
    });

    it('caps a limit above the maximum (100)', async () => {
      const big = await api.user('hist_big');
      await api.user('hist_big_b');
      const id = await api.open(big.token, { kind: 'direct', with: 'hist_big_b' });
      const sends = await Promise.all(
        range(1, 120).map((i) => api.text(big.token, id, `big-${i}`, `big ${i}`)),
      );
      for (const res of sends) assert.equal(res.status, 201, res.text);

      const forward = await api.history(big.token, id, 'after=0&limit=1000');
      assert.equal(forward.status, 200, forward.text);
      assert.deepEqual(seqsOf(forward), range(1, 100));
      assert.equal(forward.json.hasMore, true);

      const newest = await api.history(big.token, id, 'limit=101');
      assert.equal(newest.status, 200, newest.text);
      assert.deepEqual(seqsOf(newest), range(21, 120));
      assert.equal(newest.json.hasMore, true);

      const exact = await api.history(big.token, id, 'after=100&limit=100');
      assert.deepEqual(seqsOf(exact), range(101, 120));
      assert.equal(exact.json.hasMore, false);
    });
  });

  describe('POST /v1/conversations/:id/read', () => {
    it('moves readSeq forward only, capped at lastSeq, and unread follows', async () => {
      const a = await api.user('read_a');
      const b = await api.user('read_b');
      const stranger = await api.user('read_x');
      const id = await api.open(a.token, { kind: 'direct', with: 'read_b' });
      await api.fill(a, id, 5, 'r');

      const unreadOf = async (u: User) => {
        const list = (await api.list(u.token)).json.conversations as any[];
        const c = list.find((x) => x.id === id);
        assert.ok(c);
        assert.equal(c.unread, c.lastSeq - c.readSeq);
        return { readSeq: c.readSeq as number, unread: c.unread as number };
      };
      assert.deepEqual(await unreadOf(b), { readSeq: 0, unread: 5 });

      const r3 = await api.read(b.token, id, { seq: 3 });
      assert.equal(r3.status, 200, r3.text);
      assert.equal(r3.json.readSeq, 3);
      assert.ok(r3.json.deliveredSeq >= 3);
      assert.deepEqual(await unreadOf(b), { readSeq: 3, unread: 2 });

      const back = await api.read(b.token, id, { seq: 1 });
      assert.equal(back.status, 200, back.text);
      assert.equal(back.json.readSeq, 3);
      assert.deepEqual(await unreadOf(b), { readSeq: 3, unread: 2 });

      const far = await api.read(b.token, id, { seq: 1000 });
      assert.equal(far.status, 200, far.text);
      assert.equal(far.json.readSeq, 5);
      assert.deepEqual(await unreadOf(b), { readSeq: 5, unread: 0 });

      await api.fill(a, id, 2, 'r2');
      assert.deepEqual(await unreadOf(b), { readSeq: 5, unread: 2 });
      const got = await api.get(b.token, id);
      assert.equal(got.json.readSeq, 5);
      assert.equal(got.json.unread, 2);

      // The sender has read its own messages; b's reads do not move a's watermark.
      assert.deepEqual(await unreadOf(a), { readSeq: 7, unread: 0 });

      assertError(await api.read(stranger.token, id, { seq: 1 }), 403, 'not_member');
      assertError(
        await api.read(b.token, 'cNoSuchConversation', { seq: 1 }),
        404,
        'conversation_not_found',
      );
      for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '3' }]) {
        assertError(await api.read(b.token, id, body), 400, 'invalid_request');
      }
      assertError(await api.read(b.token, id, '{"seq":'), 400, 'invalid_json');
      assertError(await api.read(undefined, id, { seq: 1 }), 401, 'unauthenticated');
      assert.deepEqual(await unreadOf(b), { readSeq: 5, unread: 2 });
    });
  });
});

describe('messaging routes with small limits', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  before(async () => {
    server = await startTestServer({
      PARLEY_TEXT_CHARS_MAX: '100',
      PARLEY_GROUP_MEMBERS_MAX: '3',
    });
    api = client(server.url);
  });

  after(async () => {
    await server.close();
  });

  it('refuses text longer than PARLEY_TEXT_CHARS_MAX with 413 body_too_large', async () => {
    const a = await api.user('lim_text_a');
    await api.user('lim_text_b');
    const id = await api.open(a.token, { kind: 'direct', with: 'lim_text_b' });
    const ok = await api.text(a.token, id, 't-100', 'x'.repeat(100));
    assert.equal(ok.status, 201, ok.text);
    assertError(await api.text(a.token, id, 't-101', 'x'.repeat(101)), 413, 'body_too_large');
    assert.equal(await api.lastSeq(a.token, id), 1);
  });

  it('counts the text limit in characters, not UTF-16 code units', async () => {
    const a = await api.user('lim_emoji_a');
    await api.user('lim_emoji_b');
    const id = await api.open(a.token, { kind: 'direct', with: 'lim_emoji_b' });
    const res = await api.text(a.token, id, 'e-60', '\u{1F600}'.repeat(60));
    assert.equal(res.status, 201, res.text);
  });

  it('refuses a group over PARLEY_GROUP_MEMBERS_MAX with 422 too_many_members', async () => {
    const owner = await api.user('lim_grp_owner');
    for (const n of ['lim_grp_1', 'lim_grp_2', 'lim_grp_3']) await api.user(n);
    const full = await api.create(owner.token, {
      kind: 'group',
      title: 'Full',
      members: ['lim_grp_1', 'lim_grp_2'],
    });
    assert.equal(full.status, 201, full.text);
    assert.equal(full.json.members.length, 3);
    const before_ = await api.ids(owner.token);

    const over = await api.create(owner.token, {
      kind: 'group',
      title: 'Over',
      members: ['lim_grp_1', 'lim_grp_2', 'lim_grp_3'],
    });
    assertError(over, 422, 'too_many_members');
    assert.deepEqual(await api.ids(owner.token), before_);
  });

  it('does not count the caller twice when members names the caller too', async () => {
    const owner = await api.user('lim_self_owner');
    for (const n of ['lim_self_1', 'lim_self_2']) await api.user(n);
    const res = await api.create(owner.token, {
      kind: 'group',
      title: 'Self',
      members: ['lim_self_owner', 'lim_self_1', 'lim_self_2'],
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.members.length, 3);
  });
});

describe('messaging routes with a large text limit', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  before(async () => {
    server = await startTestServer({ PARLEY_TEXT_CHARS_MAX: '1000000' });
    api = client(server.url);
  });

  after(async () => {
    await server.close();
  });

  it('refuses a body over PARLEY_MESSAGE_BODY_BYTES_MAX (64 KiB) with 413 body_too_large', async () => {
    const a = await api.user('lim_bytes_a');
    await api.user('lim_bytes_b');
    const id = await api.open(a.token, { kind: 'direct', with: 'lim_bytes_b' });
    const ok = await api.text(a.token, id, 'b-60k', 'x'.repeat(60_000));
    assert.equal(ok.status, 201, ok.text);
    assertError(await api.text(a.token, id, 'b-70k', 'x'.repeat(70_000)), 413, 'body_too_large');
    // Multi-byte characters count by their UTF-8 bytes: 40,000 "é" are 80,000 bytes.
    assertError(await api.text(a.token, id, 'b-utf8', 'é'.repeat(40_000)), 413, 'body_too_large');
    assert.equal(await api.lastSeq(a.token, id), 1);
  });
});
