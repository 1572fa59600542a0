// Proves against a real server, with each codec, that the SDK client edits, reacts to and hides
// messages (answers and pushes reported as typed events, pulls showing the result) and reports a
// peer's profile change, and that the
// REST helpers for message actions, conversation preferences, group avatars and invite codes work.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { record, sdkTestServer } from '../test-support/sdk.js';
import { sleep, until, withTimeout } from '../test-support/wait.js';
import { ParleyApi } from './api.js';
import type { CodecName } from './types.js';
import type { Body } from './body.js';

/** The text of a text body, else undefined: the SDK's bodies are a union by `kind`. */
const textOf = (b: Body | undefined | null) => (b?.kind === 'text' ? b.text : undefined);
/** The event of a system body, else undefined. */
const eventOf = (b: Body | undefined | null) => (b?.kind === 'system' ? b.event : undefined);

const PASSWORD = 'correct horse battery';
const WAIT_MS = 10_000;
const QUIET_MS = 300;

describe('SDK message actions', () => {
  const server = sdkTestServer();

  const user = async (username: string, device = `${username}-laptop`) => {
    const api = new ParleyApi({ url: server.url });
    const r = await api.register({ username, password: PASSWORD, device });
    return { api, ...r };
  };

  const connect = async (token: string, device: string, codec: CodecName) => {
    const c = server.client({ token, device, codec });
    await withTimeout(c.connect(), WAIT_MS, 'connect');
    return c;
  };

  for (const codec of ['json', 'proto'] as const) {
    it(`edits, reacts and hides over the link, with events on both sides (${codec})`, async () => {
      const a = await user(`act_a_${codec}`);
      const b = await user(`act_b_${codec}`);
      const conversation = (await a.api.conversations.openDirect(b.user.username)).id;
      const alice = await connect(a.token, a.device, codec);
      const bob = await connect(b.token, b.device, codec);
      // Bob's second device sees his hides.
      const phone = await new ParleyApi({ url: server.url }).login({
        username: b.user.username,
        password: PASSWORD,
        device: 'phone',
      });
      const bobPhone = await connect(phone.token, 'phone', codec);
      const aliceEdited = record(alice, 'edited');
      const bobEdited = record(bob, 'edited');
      const aliceReactions = record(alice, 'reaction');
      const bobReactions = record(bob, 'reaction');
      const bobHidden = record(bob, 'hidden');
      const phoneHidden = record(bobPhone, 'hidden');
      const bobGot = record(bob, 'message');

      const m = await alice.send(conversation, { kind: 'text', text: 'helo' });
      await until(() => bobGot.length >= 1, WAIT_MS, 'bob gets it');

      const edited = await alice.edit(conversation, m.seq, { kind: 'text', text: 'hello' });
      assert.equal(textOf(edited.body), 'hello');
      assert.equal(edited.by, a.user.id);
      assert.ok(edited.editedAt >= m.at);
      await until(() => bobEdited.length >= 1, WAIT_MS, 'the edited push');
      assert.deepEqual(bobEdited[0], edited);
      assert.deepEqual(aliceEdited, [edited], 'the editor’s own event, once');

      const added = await bob.react(conversation, m.seq, '👍');
      assert.deepEqual(
        [added.user, added.emoji, added.added, added.removed, added.count],
        [b.user.id, '👍', true, false, 1],
      );
      await until(() => aliceReactions.length >= 1, WAIT_MS, 'the reaction push');
      assert.deepEqual(aliceReactions[0], added);
      let page = await alice.pull(conversation, { after: 0 });
      assert.deepEqual(page.messages[0]?.reactions, [{ emoji: '👍', count: 1, me: false }]);
      assert.equal(textOf(page.messages[0]?.body), 'hello');
      assert.equal(page.messages[0]?.editedAt, edited.editedAt);

      const removed = await bob.react(conversation, m.seq, '👍', false);
      assert.deepEqual([removed.added, removed.removed, removed.count], [false, true, 0]);
      await until(() => aliceReactions.length >= 2, WAIT_MS, 'the removal push');
      assert.equal(bobReactions.length, 2, 'bob’s own answers, once each');

      assert.deepEqual(await bob.hide(conversation, m.seq), { conversation, seq: m.seq });
      await until(() => phoneHidden.length >= 1, WAIT_MS, 'the hidden push to bob’s phone');
      assert.deepEqual(phoneHidden[0], { conversation, seq: m.seq });
      assert.deepEqual(bobHidden, [{ conversation, seq: m.seq }]);
      page = await bob.pull(conversation, { after: 0 });
      assert.deepEqual([page.messages[0]?.hidden, page.messages[0]?.body.kind], [true, 'hidden']);
      page = await alice.pull(conversation, { after: 0 });
      assert.equal(page.messages[0]?.hidden, false, 'hiding is for bob only');

      await assert.rejects(bob.edit(conversation, m.seq, { kind: 'text', text: 'mine now' }), {
        code: 'forbidden',
      });
      await assert.rejects(alice.react(conversation, 999, '👍'), { code: 'message_not_found' });
      await sleep(QUIET_MS);
      assert.equal(bobEdited.length, 1, 'a refused edit pushes nothing');
    });
  }

  for (const codec of ['json', 'proto'] as const) {
    it(`reports a peer's profile change as a profile event in the REST shape (${codec})`, async () => {
      const a = await user(`prof_a_${codec}`);
      const b = await user(`prof_b_${codec}`);
      await a.api.conversations.openDirect(b.user.username);
      const bob = await connect(b.token, b.device, codec);
      const changes = record(bob, 'profile');
      const saved = await a.api.users.update({ displayName: 'Ana', bio: 'hi' });
      await until(() => changes.length >= 1, WAIT_MS, 'the profile event');
      assert.deepEqual(changes[0]?.profile, saved);
      assert.equal(changes[0]?.deleted, false);
      assert.equal(typeof changes[0]?.at, 'number');
      await a.api.users.update({ displayName: null });
      await until(() => changes.length >= 2, WAIT_MS, 'the second profile event');
      assert.deepEqual(changes[1]?.profile, { ...saved, displayName: null });
    });
  }

  it('does message actions, preferences, avatars and invite codes over REST', async () => {
    const a = await user('rest_act_a');
    const b = await user('rest_act_b');
    const c = await user('rest_act_c');
    const chat = await a.api.conversations.openDirect('rest_act_b');
    const first = await a.api.messages.send(chat.id, 'ra-1', { kind: 'text', text: 'frist' });

    const edited = await a.api.messages.edit(chat.id, first.seq, { kind: 'text', text: 'first' });
    assert.equal(textOf(edited.body), 'first');
    assert.equal(typeof edited.editedAt, 'number');
    assert.deepEqual(await b.api.messages.react(chat.id, first.seq, '🎉'), {
      emoji: '🎉',
      count: 1,
      me: true,
    });
    let history = await a.api.messages.history(chat.id);
    assert.deepEqual(history.messages[0]?.reactions, [{ emoji: '🎉', count: 1, me: false }]);
    assert.deepEqual(await b.api.messages.unreact(chat.id, first.seq, '🎉'), {
      emoji: '🎉',
      count: 0,
      me: false,
    });
    assert.deepEqual(await b.api.messages.hide(chat.id, first.seq), {
      conversation: chat.id,
      seq: first.seq,
      hidden: true,
    });
    history = await b.api.messages.history(chat.id);
    assert.equal(history.messages[0]?.hidden, true);
    const recalled = await a.api.messages.recall(chat.id, first.seq);
    assert.equal(recalled.recalled, true);
    await assert.rejects(a.api.messages.edit(chat.id, first.seq, { kind: 'text', text: 'x' }), {
      code: 'message_recalled',
    });

    // Preferences: a pinned conversation comes first in the list, with its preview.
    const group = await a.api.groups.create({ title: 'Pins', members: ['rest_act_b'] });
    await a.api.messages.send(group.id, 'ra-2', { kind: 'text', text: 'in the group' });
    await a.api.messages.send(chat.id, 'ra-3', { kind: 'text', text: 'newest' });
    assert.deepEqual(await a.api.conversations.setPreferences(group.id, { pinned: true }), {
      pinned: true,
      muted: false,
    });
    const list = await a.api.conversations.list();
    assert.deepEqual(
      list.map((x) => x.id),
      [group.id, chat.id],
      'pinned first, then by activity',
    );
    assert.equal(textOf(list[0]?.lastMessage?.body), 'in the group');
    assert.equal(list[0]?.lastMessage?.reactions.length, 0);
    assert.deepEqual(list[0]?.preferences, { pinned: true, muted: false });

    // The avatar, then an invite code that a stranger uses to join.
    const picture = await a.api.attachments.upload(new Uint8Array([1, 2, 3]), {
      contentType: 'image/png',
    });
    const avatarChange = await a.api.groups.avatar(group.id, picture.id);
    assert.equal(eventOf(avatarChange.message.body), 'avatar.changed');
    assert.equal((await a.api.groups.get(group.id)).avatar, picture.id);

    const invite = await a.api.groups.createInvite(group.id);
    assert.equal(invite.conversation, group.id);
    assert.deepEqual(await a.api.groups.invite(group.id), invite);
    await assert.rejects(b.api.groups.invite(group.id), { code: 'forbidden' });
    const joined = await c.api.groups.join(invite.code);
    assert.equal(eventOf(joined.message.body), 'member.joined');
    assert.ok((await c.api.groups.members(group.id)).some((m) => m.id === c.user.id));
    await a.api.groups.revokeInvite(group.id);
    const d = await user('rest_act_d');
    await assert.rejects(d.api.groups.join(invite.code), {
      code: 'invite_not_found',
      status: 404,
    });
  });
});
