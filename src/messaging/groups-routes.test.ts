// Proves over real sockets that group management follows docs/groups.md: a permission matrix of every group action (avatar and invite codes included) for owner, admin, member, removed member, blocked user and stranger (each refusal changing nothing), the rules of each action, invite codes, avatars, system messages in the seq stream, read windows, former members' attachments, and `member` pushes in real time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { RtClient, type Transport } from '../test-support/rt-client.js';

const GROUP_MEMBERS_MAX = 8;

interface User {
  readonly token: string;
  readonly userId: string;
  readonly device: string;
  readonly username: string;
}

type Res = { status: number; json: any; text: string };

function assertError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
}

let server: TestServer;
let url: string;
let seq = 0;

const call = (method: string, path: string, token: string, body?: unknown): Promise<Res> =>
  http(method, `${url}${path}`, { token, ...(body !== undefined ? { body } : {}) });

async function user(prefix: string): Promise<User> {
  const username = `${prefix}${++seq}`;
  return { ...(await register(url, username)), username };
}

const api = {
  create: (u: User, title: string, members: User[], history?: string) =>
    call('POST', '/v1/conversations', u.token, {
      kind: 'group',
      title,
      members: members.map((m) => m.username),
      ...(history ? { history } : {}),
    }),
  get: (u: User, id: string) => call('GET', `/v1/conversations/${id}`, u.token),
  list: (u: User) => call('GET', '/v1/conversations', u.token),
  history: (u: User, id: string, query = 'after=0') =>
    call('GET', `/v1/conversations/${id}/messages?${query}`, u.token),
  send: (u: User, id: string, text: string) =>
    call('POST', `/v1/conversations/${id}/messages`, u.token, {
      ref: `r-${++seq}`,
      body: { kind: 'text', text },
    }),
  add: (u: User, id: string, members: User[]) =>
    call('POST', `/v1/conversations/${id}/members`, u.token, {
      members: members.map((m) => m.username),
    }),
  remove: (u: User, id: string, target: User | 'me') =>
    call(
      'DELETE',
      `/v1/conversations/${id}/members/${target === 'me' ? 'me' : target.userId}`,
      u.token,
    ),
  member: (u: User, id: string, target: User, body: unknown) =>
    call('PATCH', `/v1/conversations/${id}/members/${target.userId}`, u.token, body),
  patch: (u: User, id: string, body: unknown) =>
    call('PATCH', `/v1/conversations/${id}`, u.token, body),
  dismiss: (u: User, id: string) => call('DELETE', `/v1/conversations/${id}`, u.token),
  invite: (u: User, id: string) => call('GET', `/v1/conversations/${id}/invite`, u.token),
  join: (u: User, code: string) => call('POST', `/v1/invites/${code}/join`, u.token),
};

async function ok(res: Promise<Res>, status = 200): Promise<any> {
  const r = await res;
  assert.equal(r.status, status, r.text);
  return r.json;
}

/** Everything a group change could touch, as its owner sees it (the invite code included). */
async function snapshot(owner: User, id: string) {
  const c = await ok(api.get(owner, id));
  const messages = (await ok(api.history(owner, id, 'after=0&limit=1000'))).messages;
  const invite = await api.invite(owner, id);
  return { conversation: c, messages, invite: invite.json?.code ?? invite.status };
}

type Role = 'owner' | 'admin' | 'member' | 'removed' | 'blocked' | 'stranger';
const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'removed', 'blocked', 'stranger'];

/**
 * A group with one user per role, a plain member `x` to act on, an outsider `n` to add, and an
 * invite code. `blocked` is a member whom the owner and `x` have blocked: blocks are about
 * direct conversations, so in a group it acts as the member it is.
 */
async function cast() {
  const [owner, admin, member, removed, blocked, stranger, x, n] = await Promise.all([
    user('o'),
    user('a'),
    user('m'),
    user('r'),
    user('b'),
    user('s'),
    user('x'),
    user('n'),
  ]);
  const id = (await ok(api.create(owner, 'Team', [admin, member, removed, blocked, x]), 201))
    .id as string;
  await ok(api.member(owner, id, admin, { role: 'admin' }));
  await ok(api.remove(owner, id, removed));
  for (const blocker of [owner, x]) {
    await ok(call('POST', `/v1/contacts/${blocked.username}/block`, blocker.token));
  }
  const code = (await ok(call('POST', `/v1/conversations/${id}/invite`, owner.token), 201))
    .code as string;
  const by: Record<Role, User> = { owner, admin, member, removed, blocked, stranger };
  return { id, by, owner, admin, member, removed, blocked, stranger, x, n, code };
}

/** Uploads a small PNG as `u`; returns its attachment id. */
async function uploadImage(u: User): Promise<string> {
  const res = await http('POST', `${url}/v1/attachments`, {
    token: u.token,
    body: Buffer.from(`png-${++seq}`),
    headers: { 'content-type': 'image/png' },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.id as string;
}

type Cast = Awaited<ReturnType<typeof cast>>;

interface Action {
  readonly name: string;
  /** The system event a success records; absent for a plain send. */
  readonly event?: string | ((role: Role) => string);
  readonly run: (actor: User, g: Cast) => Promise<Res>;
  /** Status and code per role; `ok` is the success status. */
  readonly expect: Record<Role, 'ok' | readonly [number, string]>;
  /**
   * For actions that store no message (invite codes): checks a success instead of the system
   * message, given the snapshots before and after.
   */
  readonly verify?: (res: Res, g: Cast, before: Snapshot, after: Snapshot) => void;
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

const FORBIDDEN = [403, 'forbidden'] as const;
const NOT_MEMBER = [403, 'not_member'] as const;
const ADMINS = {
  owner: 'ok',
  admin: 'ok',
  member: FORBIDDEN,
  removed: NOT_MEMBER,
  blocked: FORBIDDEN,
  stranger: NOT_MEMBER,
} as const;
const OWNER = { ...ADMINS, admin: FORBIDDEN } as const;
const ALREADY = [409, 'already_member'] as const;

const ACTIONS: readonly Action[] = [
  {
    name: 'add a member',
    event: 'member.added',
    run: (u, g) => api.add(u, g.id, [g.n]),
    expect: ADMINS,
  },
  {
    name: 'remove a member',
    event: 'member.removed',
    run: (u, g) => api.remove(u, g.id, g.x),
    expect: ADMINS,
  },
  {
    name: 'remove the admin',
    // The admin removing itself is leaving.
    event: (role) => (role === 'admin' ? 'member.left' : 'member.removed'),
    run: (u, g) => api.remove(u, g.id, g.admin),
    expect: { ...OWNER, admin: 'ok' },
  },
  {
    name: 'remove the owner',
    run: (u, g) => api.remove(u, g.id, g.owner),
    // The owner removing itself is leaving, which it may not before a transfer.
    expect: { ...OWNER, owner: [409, 'owner_must_transfer'] },
  },
  {
    name: 'leave',
    event: 'member.left',
    run: (u, g) => api.remove(u, g.id, 'me'),
    expect: { ...ADMINS, owner: [409, 'owner_must_transfer'], member: 'ok', blocked: 'ok' },
  },
  {
    name: 'promote to admin',
    event: 'role.changed',
    run: (u, g) => api.member(u, g.id, g.x, { role: 'admin' }),
    expect: OWNER,
  },
  {
    name: 'demote the admin',
    event: 'role.changed',
    run: (u, g) => api.member(u, g.id, g.admin, { role: 'member' }),
    expect: OWNER,
  },
  {
    name: 'transfer ownership',
    event: 'owner.transferred',
    run: (u, g) => api.member(u, g.id, g.x, { role: 'owner' }),
    expect: OWNER,
  },
  {
    name: 'update the title',
    event: 'title.changed',
    run: (u, g) => api.patch(u, g.id, { title: 'Renamed' }),
    expect: ADMINS,
  },
  {
    name: 'set history to full',
    event: 'history.changed',
    run: (u, g) => api.patch(u, g.id, { history: 'full' }),
    expect: ADMINS,
  },
  {
    name: 'mute a member',
    event: 'muted',
    run: (u, g) => api.member(u, g.id, g.x, { muted: true }),
    expect: ADMINS,
  },
  {
    name: 'mute the admin',
    event: 'muted',
    run: (u, g) => api.member(u, g.id, g.admin, { muted: true }),
    expect: OWNER,
  },
  {
    name: 'mute the group',
    event: 'muted',
    run: (u, g) => api.patch(u, g.id, { muted: true }),
    expect: ADMINS,
  },
  {
    name: 'set the avatar',
    event: 'avatar.changed',
    run: async (u, g) => api.patch(u, g.id, { avatar: await uploadImage(u) }),
    expect: ADMINS,
  },
  {
    name: 'create an invite code',
    run: (u, g) => call('POST', `/v1/conversations/${g.id}/invite`, u.token),
    expect: ADMINS,
    verify: (res, g, before, after) => {
      assert.equal(res.status, 201);
      assert.deepEqual(res.json, { conversation: g.id, code: after.invite });
      assert.notEqual(after.invite, before.invite, 'a new code replaces the old one');
    },
  },
  {
    name: 'show the invite code',
    run: (u, g) => api.invite(u, g.id),
    expect: ADMINS,
    verify: (res, g, before, after) => {
      assert.deepEqual(res.json, { conversation: g.id, code: g.code });
      assert.deepEqual(after, before);
    },
  },
  {
    name: 'revoke the invite code',
    run: (u, g) => call('DELETE', `/v1/conversations/${g.id}/invite`, u.token),
    expect: ADMINS,
    verify: (res, _g, _before, after) => {
      assert.equal(res.status, 204);
      assert.equal(after.invite, 404);
    },
  },
  {
    name: 'join with the invite code',
    event: 'member.joined',
    run: (u, g) => api.join(u, g.code),
    expect: {
      owner: ALREADY,
      admin: ALREADY,
      member: ALREADY,
      removed: 'ok',
      blocked: ALREADY,
      stranger: 'ok',
    },
  },
  { name: 'dismiss', event: 'dismissed', run: (u, g) => api.dismiss(u, g.id), expect: OWNER },
  {
    name: 'send a message',
    run: (u, g) => api.send(u, g.id, 'hello'),
    expect: { ...ADMINS, member: 'ok', blocked: 'ok' },
  },
];

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

describe('permission matrix', () => {
  for (const action of ACTIONS) {
    for (const role of ROLES) {
      const expected = action.expect[role];
      const outcome = expected === 'ok' ? 'succeeds' : `is refused with ${expected[1]}`;
      it(`${action.name} by the ${role} ${outcome}`, async () => {
        const g = await cast();
        const before = await snapshot(g.owner, g.id);
        const res = await action.run(g.by[role], g);
        if (expected === 'ok') {
          assert.ok(res.status >= 200 && res.status < 300, res.text);
          const afterSnap = await snapshot(g.owner, g.id);
          if (action.verify) {
            assert.equal(afterSnap.conversation.lastSeq, before.conversation.lastSeq);
            return action.verify(res, g, before, afterSnap);
          }
          assert.equal(afterSnap.conversation.lastSeq, before.conversation.lastSeq + 1);
          const last = afterSnap.messages.at(-1);
          if (action.event) {
            const event = typeof action.event === 'string' ? action.event : action.event(role);
            assert.equal(last.body.kind, 'system');
            assert.equal(last.body.event, event);
            assert.equal(last.sender, g.by[role].userId);
            assert.deepEqual(res.json.message, last);
          } else {
            assert.equal(last.body.kind, 'text');
          }
          return;
        }
        assertError(res, expected[0], expected[1]);
        assert.deepEqual(await snapshot(g.owner, g.id), before, 'a refusal changes nothing');
      });
    }
  }

  it('lets every role but the stranger read, the removed member only up to its removal', async () => {
    const g = await cast();
    await ok(api.send(g.owner, g.id, 'after the removal'), 201);
    const full = (await ok(api.history(g.owner, g.id))).messages.map((m: any) => m.seq);
    assert.deepEqual(full, [1, 2, 3]);
    for (const role of ['admin', 'member', 'blocked'] as const) {
      const seqs = (await ok(api.history(g.by[role], g.id))).messages.map((m: any) => m.seq);
      assert.deepEqual(seqs, [1, 2, 3], role);
    }
    const removed = (await ok(api.history(g.removed, g.id))).messages;
    assert.deepEqual(
      removed.map((m: any) => m.seq),
      [1, 2],
    );
    assert.equal(removed[1].body.event, 'member.removed');
    assertError(await api.history(g.stranger, g.id), 403, 'not_member');
    assertError(await api.get(g.removed, g.id), 403, 'not_member');
  });
});

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
    const rt = await RtClient.connect(server, 'ws-json', g.owner.token, g.owner.device);
    try {
      const res = await rt.request({ type: 'recall', conversation: g.id, seq: 1 });
      assert.equal(res.type, 'error');
      assert.equal(res.type === 'error' ? res.code : '', 'forbidden');
    } finally {
      rt.drop();
    }
  });
});

describe('member pushes in real time', () => {
  const isMember = (f: { type: string }) => f.type === 'member';

  for (const transport of ['ws-json', 'ws-proto', 'tcp'] as Transport[]) {
    it(`tells members and the removed member, then stops pushing to it (${transport})`, async () => {
      const g = await cast();
      const [owner, member, x] = await Promise.all([
        RtClient.connect(server, transport, g.owner.token, g.owner.device),
        RtClient.connect(server, transport, g.member.token, g.member.device),
        RtClient.connect(server, transport, g.x.token, g.x.device),
      ]);
      try {
        const removed = await ok(api.remove(g.admin, g.id, g.x));
        const leftSeq = removed.message.seq as number;
        for (const rt of [owner, member, x]) {
          const push = await rt.waitFor(isMember);
          assert.deepEqual(push, {
            type: 'member',
            conversation: g.id,
            seq: leftSeq,
            event: 'member.removed',
            actor: g.admin.userId,
            targets: [g.x.userId],
            at: removed.message.at,
          });
        }
        // The members also get the system message itself, as any message.
        const sys = await member.waitFor((f) => f.type === 'message' && f.seq === leftSeq);
        assert.equal(sys.type === 'message' && sys.body.kind, 'system');

        // After the removal: the members get the next message, the removed member nothing.
        const from = x.types().length;
        const sent = await ok(api.send(g.owner, g.id, 'not for x'), 201);
        await member.waitFor((f) => f.type === 'message' && f.seq === sent.seq);
        await ok(api.patch(g.owner, g.id, { title: 'Later' }));
        await member.waitFor((f) => f.type === 'member' && f.event === 'title.changed');
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(x.types().slice(from), [], 'no push after the removal');

        // It can pull up to its removal and no further, and cannot send.
        const pulled = await x.request({ type: 'pull', conversation: g.id, after: 0, limit: 100 });
        assert.equal(pulled.type, 'pulled');
        if (pulled.type === 'pulled') {
          assert.equal(pulled.messages.at(-1)?.seq, leftSeq);
          assert.equal(pulled.hasMore, false);
        }
        const past = await x.request({ type: 'pull', conversation: g.id, after: leftSeq });
        assert.deepEqual(past.type === 'pulled' && past.messages, []);
        const refused = await x.request({
          type: 'send',
          ref: `x-${++seq}`,
          conversation: g.id,
          body: { kind: 'text', text: 'let me in' },
        });
        assert.equal(refused.type === 'error' && refused.code, 'not_member');

        // Sync tells it once where its membership ended.
        const synced = await x.request({ type: 'sync' });
        const state =
          synced.type === 'synced'
            ? synced.conversations.find((c: { id: string }) => c.id === g.id)
            : undefined;
        assert.equal(state?.leftSeq, leftSeq);
        assert.equal(state?.lastSeq, leftSeq);
      } finally {
        for (const rt of [owner, member, x]) rt.drop();
      }
    });
  }

  it('pushes an addition to the new member too, after the change', async () => {
    const g = await cast();
    const n = await RtClient.connect(server, 'ws-json', g.n.token, g.n.device);
    const member = await RtClient.connect(server, 'ws-json', g.member.token, g.member.device);
    try {
      const added = await ok(api.add(g.owner, g.id, [g.n]));
      for (const rt of [n, member]) {
        const push = await rt.waitFor(isMember);
        assert.equal(push.type === 'member' && push.event, 'member.added');
        assert.deepEqual(push.type === 'member' && push.targets, [g.n.userId]);
        assert.equal(push.type === 'member' && push.seq, added.message.seq);
      }
      // Now a member, it gets the group's messages.
      const sent = await ok(api.send(g.owner, g.id, 'welcome'), 201);
      await n.waitFor((f) => f.type === 'message' && f.seq === sent.seq);
    } finally {
      n.drop();
      member.drop();
    }
  });
});

describe('invite codes', () => {
  const create = (u: User, id: string) => call('POST', `/v1/conversations/${id}/invite`, u.token);
  const revoke = (u: User, id: string) => call('DELETE', `/v1/conversations/${id}/invite`, u.token);

  it('joins with a valid code: a system message, a member push to all, history from the join', async () => {
    const g = await cast();
    await ok(api.send(g.owner, g.id, 'before the join'), 201);
    const [member, joiner] = await Promise.all([
      RtClient.connect(server, 'ws-proto', g.member.token, g.member.device),
      RtClient.connect(server, 'tcp', g.n.token, g.n.device),
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
