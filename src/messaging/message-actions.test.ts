// Proves over real sockets that the message actions follow docs/messages.md, through both the REST API and the real-time protocol (WebSocket JSON and Protobuf, TCP): edits (and their window, kinds and refusals), recalls by group admins, delete-for-me, reactions with their counts and pushes, and what a block stops in a direct conversation; each refusal changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import {
  assertError,
  callAs,
  ok,
  registerUser,
  type Res,
  type TestUser as User,
} from '../test-support/rest.js';
import { RtClient, TRANSPORTS, type Transport } from '../test-support/rt-client.js';
import { sleep } from '../test-support/wait.js';

const REACTIONS_PER_USER_MAX = 3;

let server: TestServer;
/** Edit and recall windows of a few milliseconds: for the "too late" cases. */
let quick: TestServer;
let n = 0;

function api(s: TestServer) {
  const call = (method: string, path: string, u: User, body?: unknown): Promise<Res> =>
    callAs(s.url, method, path, u, body);
  const msg = (id: string, seq: number) => `/v1/conversations/${id}/messages/${seq}`;
  return {
    call,
    user: (prefix: string): Promise<User> => registerUser(s.url, `${prefix}${++n}`),
    group: async (owner: User, members: User[]): Promise<string> =>
      (
        await ok(
          call('POST', '/v1/conversations', owner, {
            kind: 'group',
            title: 'Team',
            members: members.map((m) => m.username),
          }),
          201,
        )
      ).id as string,
    direct: async (a: User, b: User): Promise<string> =>
      (await ok(call('POST', '/v1/conversations', a, { kind: 'direct', with: b.username }), 201))
        .id as string,
    send: async (u: User, id: string, body: unknown = { kind: 'text', text: 'hello' }) =>
      (await ok(call('POST', `/v1/conversations/${id}/messages`, u, { ref: `r${++n}`, body }), 201))
        .seq as number,
    history: async (u: User, id: string): Promise<any[]> =>
      (await ok(call('GET', `/v1/conversations/${id}/messages?after=0&limit=100`, u)))
        .messages as any[],
    edit: (u: User, id: string, seq: number, body: unknown) =>
      call('PATCH', msg(id, seq), u, { body }),
    recall: (u: User, id: string, seq: number) => call('POST', `${msg(id, seq)}/recall`, u),
    hide: (u: User, id: string, seq: number) => call('POST', `${msg(id, seq)}/hide`, u),
    react: (u: User, id: string, seq: number, emoji: string) =>
      call('POST', `${msg(id, seq)}/reactions`, u, { emoji }),
    unreact: (u: User, id: string, seq: number, emoji: string) =>
      call('DELETE', `${msg(id, seq)}/reactions?emoji=${encodeURIComponent(emoji)}`, u),
  };
}

let a: ReturnType<typeof api>;

before(async () => {
  [server, quick] = await Promise.all([
    startTestServer({
      PARLEY_TCP_PORT: '0',
      PARLEY_REACTIONS_PER_USER_MAX: String(REACTIONS_PER_USER_MAX),
    }),
    startTestServer({ PARLEY_EDIT_WINDOW_MS: '1', PARLEY_RECALL_WINDOW_MS: '1' }),
  ]);
  a = api(server);
});

after(async () => {
  await Promise.all([server.close(), quick.close()]);
});

/** Connects every user given, over one transport; drops them all after `work`. */
async function online<T>(
  transport: Transport,
  users: User[],
  work: (links: RtClient[]) => Promise<T>,
  s: TestServer = server,
): Promise<T> {
  const links = await Promise.all(
    users.map((u) => RtClient.connect(s, transport, u.token, u.device)),
  );
  try {
    return await work(links);
  } finally {
    for (const l of links) l.drop();
  }
}

/** A second device of the same user: logs in again with another device id. */
async function secondDevice(u: User, s: TestServer = server): Promise<User> {
  const res = await http<{ token: string; device: string }>('POST', `${s.url}/v1/auth/login`, {
    body: { username: u.username, password: 'correct horse battery', device: `${u.device}-2` },
  });
  assert.equal(res.status, 200, res.text);
  return { ...u, token: res.json.token, device: res.json.device };
}

describe('edit', () => {
  it('edits over HTTP: history and pulls show the latest text and editedAt; members and the other devices get an edited push', async () => {
    const [alice, bob] = await Promise.all([a.user('al'), a.user('bo')]);
    const id = await a.group(alice, [bob]);
    const first = await a.send(alice, id);
    const seq = await a.send(alice, id, { kind: 'text', text: 'tpyo', replyTo: first });
    const laptop = await secondDevice(alice);
    await online('ws-proto', [bob, laptop], async ([bobRt, laptopRt]) => {
      const res = await ok(
        a.edit(alice, id, seq, { kind: 'text', text: 'typo fixed', mentions: [bob.userId] }),
      );
      // The message keeps its replyTo; text and mentions are new.
      const body = { kind: 'text', text: 'typo fixed', mentions: [bob.userId], replyTo: first };
      assert.deepEqual(res.message.body, body);
      assert.equal(res.message.seq, seq);
      assert.equal(typeof res.message.editedAt, 'number');
      assert.ok(res.message.editedAt >= res.message.at);
      for (const rt of [bobRt!, laptopRt!]) {
        const push = await rt.waitFor((f) => f.type === 'edited');
        assert.deepEqual(push, {
          type: 'edited',
          conversation: id,
          seq,
          body,
          editedAt: res.message.editedAt,
          by: alice.userId,
        });
      }
      const pulled = await bobRt!.request({ type: 'pull', conversation: id, after: 0 });
      assert.deepEqual(pulled.messages[1].body, body);
      assert.equal(pulled.messages[1].editedAt, res.message.editedAt);
      assert.equal(pulled.messages[0].editedAt, undefined, 'only the edited one');
    });
    const history = await a.history(bob, id);
    assert.deepEqual(history[1].body.text, 'typo fixed');
    assert.equal(history.length, 2, 'an edit uses no seq');
  });

  it('shows the edited text in the seed API, whose pages are cached', async () => {
    const [alice, bob] = await Promise.all([a.user('al'), a.user('bo')]);
    const chat = `${alice.username}:${bob.username}`;
    const seed = (method: string, path: string, body: unknown) =>
      http(method, `${server.url}${path}`, { token: alice.token, body });
    assert.equal(
      (await seed('POST', '/api/send', { chat, text: 'draft', sender: alice.username })).status,
      200,
    );
    const pull = async () =>
      (await seed('GET', '/api/pull', { chat, cursor: 0, limit: 10 })).json.messages[0].text;
    assert.equal(await pull(), 'draft');
    const id = (await ok(a.call('GET', '/v1/conversations', alice))).conversations[0].id as string;
    await ok(a.edit(alice, id, 1, { kind: 'text', text: 'final' }));
    assert.equal(await pull(), 'final');
  });

  for (const transport of TRANSPORTS) {
    it(`edits over the real-time protocol (${transport}): a reply to the editor, a push to the others`, async () => {
      const [alice, bob] = await Promise.all([a.user('al'), a.user('bo')]);
      const id = await a.group(alice, [bob]);
      const seq = await a.send(alice, id);
      await online(transport, [alice, bob], async ([aliceRt, bobRt]) => {
        const reply = await aliceRt!.request({
          type: 'edit',
          conversation: id,
          seq,
          body: { kind: 'text', text: 'over the wire' },
        });
        assert.equal(reply.type, 'edited', JSON.stringify(reply));
        assert.deepEqual(reply.body, { kind: 'text', text: 'over the wire' });
        assert.equal(reply.by, alice.userId);
        const push = await bobRt!.waitFor((f) => f.type === 'edited');
        assert.equal(push.editedAt, reply.editedAt);
        assert.equal(push.id, undefined);
        await sleep(50);
        assert.equal(aliceRt!.ofType('edited').length, 1, 'the editor gets the reply only');
        const refused = await aliceRt!.request({
          type: 'edit',
          conversation: id,
          seq: 99,
          body: { kind: 'text', text: 'x' },
        });
        assert.equal(refused.type, 'error');
        assert.equal(refused.code, 'message_not_found');
      });
      assert.equal((await a.history(bob, id))[0].body.text, 'over the wire');
    });
  }

  it('refuses edits that break a rule, over HTTP and the real-time protocol, changing nothing', async () => {
    const [alice, bob, eve] = await Promise.all([a.user('al'), a.user('bo'), a.user('ev')]);
    const id = await a.group(alice, [bob]);
    const mine = await a.send(alice, id);
    const bobs = await a.send(bob, id);
    const recalled = await a.send(alice, id);
    await ok(a.recall(alice, id, recalled));
    const located = await a.send(alice, id, { kind: 'location', lat: 1, lng: 2 });
    const custom = await a.send(alice, id, { kind: 'custom', type: 'poll', payload: {} });
    await ok(
      a.call('PATCH', `/v1/conversations/${id}/members/${bob.userId}`, alice, { muted: true }),
    );
    const system = (await a.history(alice, id)).at(-1).seq as number;
    const before = await a.history(alice, id);
    const text = { kind: 'text', text: 'changed' };
    const cases: [User, number, unknown, number, string][] = [
      [alice, bobs, text, 403, 'forbidden'],
      [alice, recalled, text, 409, 'message_recalled'],
      [alice, located, text, 422, 'not_editable'],
      [alice, custom, text, 422, 'not_editable'],
      [alice, system, text, 422, 'not_editable'],
      [alice, 999, text, 404, 'message_not_found'],
      [eve, mine, text, 403, 'not_member'],
      [bob, bobs, text, 403, 'muted'],
      [alice, mine, { kind: 'image', attachment: 'aX' }, 400, 'invalid_request'],
      [alice, mine, { kind: 'text', text: '' }, 400, 'invalid_request'],
      [alice, mine, { kind: 'text', text: 'x', replyTo: 1 }, 400, 'invalid_request'],
      [alice, mine, { kind: 'text', text: 'x', extra: 1 }, 400, 'invalid_request'],
      [alice, mine, { kind: 'text', text: 'x'.repeat(16_001) }, 413, 'body_too_large'],
    ];
    for (const [u, seq, body, status, code] of cases) {
      assertError(await a.edit(u, id, seq, body), status, code);
    }
    await online('ws-json', [alice, eve], async ([aliceRt, eveRt]) => {
      for (const [u, seq, body, , code] of cases) {
        const rt = u === eve ? eveRt! : aliceRt!;
        if (u === bob) continue;
        const res = await rt.request({ type: 'edit', conversation: id, seq, body });
        assert.equal(res.type, 'error');
        assert.equal(res.code, code, `${code}: ${JSON.stringify(res)}`);
      }
    });
    assertError(await a.edit(alice, 'c-nope', mine, text), 404, 'conversation_not_found');
    assert.deepEqual(await a.history(alice, id), before, 'nothing changed');
  });

  it('refuses an edit after the edit window, over HTTP and the real-time protocol', async () => {
    const q = api(quick);
    const alice = await q.user('al');
    const id = await q.group(alice, []);
    const seq = await q.send(alice, id);
    await sleep(20);
    assertError(await q.edit(alice, id, seq, { kind: 'text', text: 'late' }), 403, 'edit_expired');
    await online(
      'ws-json',
      [alice],
      async ([rt]) => {
        const res = await rt!.request({
          type: 'edit',
          conversation: id,
          seq,
          body: { kind: 'text', text: 'late' },
        });
        assert.equal(res.code, 'edit_expired');
      },
      quick,
    );
    const [m] = await q.history(alice, id);
    assert.equal(m.body.text, 'hello');
    assert.equal(m.editedAt, undefined);
  });
});

describe('recall by group admins', () => {
  it('lets the owner and admins recall members’ messages after the window, over HTTP and the real-time protocol', async () => {
    const q = api(quick);
    const [owner, admin, member, other] = await Promise.all([
      q.user('ow'),
      q.user('ad'),
      q.user('me'),
      q.user('ot'),
    ]);
    const id = await q.group(owner, [admin, member, other]);
    await ok(
      q.call('PATCH', `/v1/conversations/${id}/members/${admin.userId}`, owner, { role: 'admin' }),
    );
    const first = await q.send(member, id);
    const second = await q.send(member, id);
    const third = await q.send(other, id);
    await sleep(20);
    assertError(await q.recall(member, id, first), 403, 'recall_expired');
    await online(
      'ws-proto',
      [member, admin],
      async ([memberRt, adminRt]) => {
        const res = await ok(q.recall(admin, id, first));
        assert.deepEqual(res.message.body, { kind: 'recalled' });
        assert.equal(res.message.recalled, true);
        const push = await memberRt!.waitFor((f) => f.type === 'recalled');
        assert.deepEqual(push, {
          type: 'recalled',
          conversation: id,
          seq: first,
          by: admin.userId,
        });
        const reply = await adminRt!.request({ type: 'recall', conversation: id, seq: second });
        assert.deepEqual(reply, {
          type: 'recalled',
          id: reply.id,
          conversation: id,
          seq: second,
          by: admin.userId,
        });
      },
      quick,
    );
    // The owner recalls anyone's, its own at any time too.
    await ok(q.recall(owner, id, third));
    const own = await q.send(owner, id);
    await sleep(20);
    await ok(q.recall(owner, id, own));
    const bodies = (await q.history(member, id)).filter((m) => m.body.kind !== 'system');
    assert.deepEqual(
      bodies.map((m) => m.body.kind),
      ['recalled', 'recalled', 'recalled', 'recalled'],
    );
  });

  it('keeps admins off the owner’s and other admins’ messages, and members off everyone’s', async () => {
    const [owner, admin, admin2, member] = await Promise.all([
      a.user('ow'),
      a.user('ad'),
      a.user('ad'),
      a.user('me'),
    ]);
    const id = await a.group(owner, [admin, admin2, member]);
    for (const u of [admin, admin2]) {
      await ok(
        a.call('PATCH', `/v1/conversations/${id}/members/${u.userId}`, owner, { role: 'admin' }),
      );
    }
    const byOwner = await a.send(owner, id);
    const byAdmin2 = await a.send(admin2, id);
    const byAdmin = await a.send(admin, id);
    const before = await a.history(owner, id);
    assertError(await a.recall(admin, id, byOwner), 403, 'forbidden');
    assertError(await a.recall(admin, id, byAdmin2), 403, 'forbidden');
    assertError(await a.recall(member, id, byAdmin), 403, 'forbidden');
    assertError(await a.recall(member, id, 1), 403, 'forbidden');
    await online('ws-json', [admin], async ([rt]) => {
      const res = await rt!.request({ type: 'recall', conversation: id, seq: byOwner });
      assert.equal(res.code, 'forbidden');
    });
    assert.deepEqual(await a.history(owner, id), before);
    // Direct conversations have no admins: only the sender recalls.
    const [x, y] = await Promise.all([a.user('x'), a.user('y')]);
    const direct = await a.direct(x, y);
    const seq = await a.send(x, direct);
    assertError(await a.recall(y, direct, seq), 403, 'forbidden');
    await ok(a.recall(x, direct, seq));
  });
});

describe('delete for me', () => {
  it('hides a message from the caller’s own reads over HTTP; others are unaffected; its other devices learn', async () => {
    const [alice, bob] = await Promise.all([a.user('al'), a.user('bo')]);
    const id = await a.group(alice, [bob]);
    const first = await a.send(alice, id, { kind: 'text', text: 'one' });
    await a.send(alice, id, { kind: 'text', text: 'two' });
    await ok(a.react(alice, id, first, '👍'));
    const phone = await secondDevice(bob);
    await online('ws-json', [phone, alice], async ([phoneRt, aliceRt]) => {
      assert.deepEqual(await ok(a.hide(bob, id, first)), {
        conversation: id,
        seq: first,
        hidden: true,
      });
      assert.deepEqual(await phoneRt!.waitFor((f) => f.type === 'hidden'), {
        type: 'hidden',
        conversation: id,
        seq: first,
      });
      await ok(a.hide(bob, id, first));
      await sleep(50);
      assert.equal(phoneRt!.ofType('hidden').length, 1, 'hiding twice pushes nothing');
      assert.equal(aliceRt!.ofType('hidden').length, 0, 'nobody else is told');
      const pulled = await phoneRt!.request({ type: 'pull', conversation: id, after: 0 });
      assert.deepEqual(pulled.messages[0].body, { kind: 'hidden' });
      assert.equal(pulled.messages[0].hidden, true);
    });
    const mine = await a.history(bob, id);
    assert.equal(mine.length, 2, 'the seq stays');
    assert.deepEqual(mine[0].body, { kind: 'hidden' });
    assert.equal(mine[0].hidden, true);
    assert.equal(mine[0].reactions, undefined);
    assert.equal(mine[1].body.text, 'two');
    const theirs = await a.history(alice, id);
    assert.equal(theirs[0].body.text, 'one');
    assert.equal(theirs[0].hidden, undefined);
    assert.deepEqual(theirs[0].reactions, [{ emoji: '👍', count: 1, me: true }]);
  });

  for (const transport of TRANSPORTS) {
    it(`hides over the real-time protocol (${transport})`, async () => {
      const [alice, bob, eve] = await Promise.all([a.user('al'), a.user('bo'), a.user('ev')]);
      const id = await a.group(alice, [bob]);
      const seq = await a.send(alice, id);
      await online(transport, [bob, eve], async ([bobRt, eveRt]) => {
        const reply = await bobRt!.request({ type: 'hide', conversation: id, seq });
        assert.deepEqual(reply, { type: 'hidden', id: reply.id, conversation: id, seq });
        const pulled = await bobRt!.request({ type: 'pull', conversation: id });
        assert.equal(pulled.messages[0].hidden, true);
        assert.deepEqual(pulled.messages[0].body, { kind: 'hidden' });
        const missing = await bobRt!.request({ type: 'hide', conversation: id, seq: 42 });
        assert.equal(missing.code, 'message_not_found');
        const stranger = await eveRt!.request({ type: 'hide', conversation: id, seq });
        assert.equal(stranger.code, 'not_member');
      });
      assert.equal((await a.history(alice, id))[0].hidden, undefined);
    });
  }
});

describe('reactions', () => {
  it('adds and removes over HTTP; history counts each emoji with the caller’s own marked; members get reaction pushes', async () => {
    const [alice, bob, carol] = await Promise.all([a.user('al'), a.user('bo'), a.user('ca')]);
    const id = await a.group(alice, [bob, carol]);
    const seq = await a.send(alice, id);
    await online('ws-json', [alice, carol], async ([aliceRt, carolRt]) => {
      assert.deepEqual(await ok(a.react(bob, id, seq, '👍')), { emoji: '👍', count: 1, me: true });
      const push = await aliceRt!.waitFor((f) => f.type === 'reaction');
      assert.equal(typeof push.at, 'number');
      assert.deepEqual(
        { ...push, at: 0 },
        {
          type: 'reaction',
          conversation: id,
          seq,
          user: bob.userId,
          emoji: '👍',
          removed: false,
          count: 1,
          at: 0,
        },
      );
      await carolRt!.waitFor((f) => f.type === 'reaction');
      // Adding it again is answered and pushes nothing.
      assert.deepEqual(await ok(a.react(bob, id, seq, '👍')), { emoji: '👍', count: 1, me: true });
      await ok(a.react(carol, id, seq, '👍'));
      await ok(a.react(carol, id, seq, '👨‍👩‍👧‍👦'));
      await aliceRt!.waitForCount('reaction', 3);
      await sleep(50);
      assert.equal(aliceRt!.ofType('reaction').length, 3);
    });
    assert.deepEqual((await a.history(carol, id))[0].reactions, [
      { emoji: '👍', count: 2, me: true },
      { emoji: '👨‍👩‍👧‍👦', count: 1, me: true },
    ]);
    assert.deepEqual((await a.history(alice, id))[0].reactions, [
      { emoji: '👍', count: 2, me: false },
      { emoji: '👨‍👩‍👧‍👦', count: 1, me: false },
    ]);
    assert.deepEqual(await ok(a.unreact(carol, id, seq, '👨‍👩‍👧‍👦')), {
      emoji: '👨‍👩‍👧‍👦',
      count: 0,
      me: false,
    });
    assert.deepEqual(await ok(a.unreact(carol, id, seq, '👨‍👩‍👧‍👦')), {
      emoji: '👨‍👩‍👧‍👦',
      count: 0,
      me: false,
    });
    assert.deepEqual((await a.history(alice, id))[0].reactions, [
      { emoji: '👍', count: 2, me: false },
    ]);
  });

  for (const transport of TRANSPORTS) {
    it(`reacts over the real-time protocol (${transport})`, async () => {
      const [alice, bob] = await Promise.all([a.user('al'), a.user('bo')]);
      const id = await a.group(alice, [bob]);
      const seq = await a.send(alice, id);
      await online(transport, [alice, bob], async ([aliceRt, bobRt]) => {
        const reply = await bobRt!.request({ type: 'react', conversation: id, seq, emoji: '🎉' });
        assert.equal(reply.type, 'reaction', JSON.stringify(reply));
        assert.equal(reply.count, 1);
        assert.equal(reply.removed, false);
        const push = await aliceRt!.waitFor((f) => f.type === 'reaction');
        assert.equal(push.emoji, '🎉');
        assert.equal(push.user, bob.userId);
        const pulled = await aliceRt!.request({ type: 'pull', conversation: id });
        assert.deepEqual(pulled.messages[0].reactions, [{ emoji: '🎉', count: 1, me: false }]);
        const removed = await bobRt!.request({
          type: 'react',
          conversation: id,
          seq,
          emoji: '🎉',
          remove: true,
        });
        assert.equal(removed.removed, true);
        assert.equal(removed.count, 0);
        await aliceRt!.waitFor((f) => f.type === 'reaction' && f.removed === true);
        const after = await aliceRt!.request({ type: 'pull', conversation: id });
        assert.equal(after.messages[0].reactions, undefined);
      });
    });
  }

  it('refuses bad emojis, one too many, recalled messages and non-members, changing nothing', async () => {
    const [alice, bob, eve] = await Promise.all([a.user('al'), a.user('bo'), a.user('ev')]);
    const id = await a.group(alice, [bob]);
    const seq = await a.send(alice, id);
    const gone = await a.send(alice, id);
    await ok(a.recall(alice, id, gone));
    for (const emoji of ['👍'.repeat(17), 'two words', 'tab\t', '\u0000', '\ud83d']) {
      assertError(await a.react(bob, id, seq, emoji), 400, 'invalid_request');
    }
    assertError(await a.react(bob, id, seq, ''), 400, 'invalid_request');
    for (const emoji of ['a', 'b', 'c']) await ok(a.react(bob, id, seq, emoji));
    assertError(await a.react(bob, id, seq, 'd'), 422, 'too_many_reactions');
    await ok(a.react(bob, id, seq, 'a'), 200);
    assertError(await a.react(bob, id, gone, '👍'), 409, 'message_recalled');
    assertError(await a.react(eve, id, seq, '👍'), 403, 'not_member');
    assertError(await a.unreact(eve, id, seq, 'a'), 403, 'not_member');
    assertError(await a.react(bob, id, 77, '👍'), 404, 'message_not_found');
    await online('ws-proto', [bob], async ([rt]) => {
      const res = await rt!.request({ type: 'react', conversation: id, seq, emoji: 'd' });
      assert.equal(res.code, 'too_many_reactions');
      const bad = await rt!.request({ type: 'react', conversation: id, seq, emoji: 'x y' });
      assert.equal(bad.code, 'invalid_request');
    });
    const [m, r] = await a.history(alice, id);
    assert.deepEqual(
      m.reactions.map((x: any) => x.emoji),
      ['a', 'b', 'c'],
    );
    assert.equal(r.reactions, undefined);
  });
});

describe('blocks in a direct conversation', () => {
  it('stop edits and reactions on both sides, not recalls or delete-for-me', async () => {
    const [alice, bob] = await Promise.all([a.user('al'), a.user('bo')]);
    const id = await a.direct(alice, bob);
    const hers = await a.send(alice, id);
    const his = await a.send(bob, id);
    await ok(a.call('POST', `/v1/contacts/${bob.username}/block`, alice));
    const before = await a.history(alice, id);
    for (const [u, seq] of [
      [alice, hers],
      [bob, his],
    ] as const) {
      assertError(await a.edit(u, id, seq, { kind: 'text', text: 'x' }), 403, 'blocked');
      assertError(await a.react(u, id, seq, '👍'), 403, 'blocked');
    }
    await online('tcp', [bob], async ([rt]) => {
      const edit = await rt!.request({
        type: 'edit',
        conversation: id,
        seq: his,
        body: { kind: 'text', text: 'x' },
      });
      assert.equal(edit.code, 'blocked');
      const react = await rt!.request({ type: 'react', conversation: id, seq: hers, emoji: '👍' });
      assert.equal(react.code, 'blocked');
      const hide = await rt!.request({ type: 'hide', conversation: id, seq: hers });
      assert.equal(hide.type, 'hidden');
    });
    assert.deepEqual(await a.history(alice, id), before, 'nothing changed for the blocker');
    await ok(a.recall(bob, id, his));
    assert.equal((await a.history(alice, id))[1].body.kind, 'recalled');
  });
});
