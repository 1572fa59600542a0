// Proves over real sockets that delete-for-me, reactions and blocks follow docs/messages.md, through both the REST API and the real-time protocol (WebSocket JSON and Protobuf, TCP): hiding a message from one's own reads, reactions with their counts and pushes, and what a block stops in a direct conversation; each refusal changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { assertError, ok } from '../test-support/rest.js';
import { TRANSPORTS } from '../test-support/rt-client.js';
import { sleep } from '../test-support/wait.js';
import { api, realtime, REACTIONS_PER_USER_MAX } from '../test-support/message-actions-api.js';

let server: TestServer;
const { online, secondDevice } = realtime(() => server);

let a: ReturnType<typeof api>;

before(async () => {
  server = await startTestServer({
    PARLEY_TCP_PORT: '0',
    PARLEY_REACTIONS_PER_USER_MAX: String(REACTIONS_PER_USER_MAX),
  });
  a = api(server);
});

after(async () => {
  await server.close();
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
