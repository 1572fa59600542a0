// Proves over real sockets that edits and recalls follow docs/messages.md, through both the REST API and the real-time protocol (WebSocket JSON and Protobuf, TCP): edits (and their window, kinds and refusals, and the seed API's cached pages) and recalls by group admins; each refusal changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, startTestServer, type TestServer } from '../test-support/server.js';
import { assertError, ok, type TestUser as User } from '../test-support/rest.js';
import { TRANSPORTS } from '../test-support/rt-client.js';
import { sleep } from '../test-support/wait.js';
import { api, realtime, REACTIONS_PER_USER_MAX } from '../test-support/message-actions-api.js';

let server: TestServer;
/** Edit and recall windows of a few milliseconds: for the "too late" cases. */
let quick: TestServer;
const { online, secondDevice } = realtime(() => server);

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
