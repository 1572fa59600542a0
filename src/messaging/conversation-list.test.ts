// Proves over real sockets that the conversation list follows docs/rest-api.md (GET /v1/conversations) and the real-time `sync`: pinned first, then by last activity; each with the caller's last-message preview (its window, recalls, hidden messages, long texts cut), unread and mentions counts; and per-user pin and mute, set over REST, seen by every device.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { callAs, ok, registerUser, type Res, type TestUser as User } from '../test-support/rest.js';
import { RtClient, TRANSPORTS } from '../test-support/rt-client.js';

const PINS_MAX = 2;
const PREVIEW_CHARS_MAX = 20;

let server: TestServer;
let n = 0;

before(async () => {
  server = await startTestServer({
    PARLEY_TCP_PORT: '0',
    PARLEY_PINS_MAX: String(PINS_MAX),
    PARLEY_PREVIEW_CHARS_MAX: String(PREVIEW_CHARS_MAX),
    // The changed-messages test reacts more than a burst's worth of times over REST.
    PARLEY_SEND_BURST_MAX: '1000',
  });
});

after(async () => {
  await server.close();
});

const call = (method: string, path: string, u: User, body?: unknown): Promise<Res> =>
  callAs(server.url, method, path, u, body);

const user = (prefix: string): Promise<User> => registerUser(server.url, `${prefix}${++n}`);

const group = async (owner: User, members: User[], history?: string): Promise<string> =>
  (
    await ok(
      call('POST', '/v1/conversations', owner, {
        kind: 'group',
        title: `g${++n}`,
        members: members.map((m) => m.username),
        ...(history ? { history } : {}),
      }),
      201,
    )
  ).id as string;

const send = async (u: User, id: string, body: unknown = { kind: 'text', text: 'hi' }) =>
  (await ok(call('POST', `/v1/conversations/${id}/messages`, u, { ref: `r${++n}`, body }), 201))
    .seq as number;

const list = async (u: User): Promise<any[]> =>
  (await ok(call('GET', '/v1/conversations', u))).conversations as any[];

const entry = async (u: User, id: string): Promise<any> => {
  const found = (await list(u)).find((c) => c.id === id);
  assert.ok(found, `${id} is listed`);
  return found;
};

const prefs = (u: User, id: string, body: unknown) =>
  call('PATCH', `/v1/conversations/${id}/preferences`, u, body);

describe('GET /v1/conversations', () => {
  it('sorts by last activity with pinned conversations first', async () => {
    const [alice, bob] = await Promise.all([user('al'), user('bo')]);
    const first = await group(alice, [bob]);
    const direct = (
      await ok(
        call('POST', '/v1/conversations', alice, { kind: 'direct', with: bob.username }),
        201,
      )
    ).id as string;
    const last = await group(alice, [bob]);
    await send(bob, first);
    await send(bob, direct);
    await send(bob, last);
    const ids = async (u: User) => (await list(u)).map((c) => c.id);
    assert.deepEqual(await ids(alice), [last, direct, first]);
    await send(bob, first);
    assert.deepEqual(await ids(alice), [first, last, direct]);
    assert.deepEqual(await ok(prefs(alice, direct, { pinned: true })), {
      preferences: { pinned: true, muted: false },
    });
    assert.deepEqual(await ids(alice), [direct, first, last]);
    assert.deepEqual(await ids(bob), [first, last, direct], 'pins are per user');
    const pinned = (await list(alice))[0];
    assert.deepEqual(pinned.preferences, { pinned: true, muted: false });
  });

  it('counts unread messages and mentions of the caller or @all above its read watermark', async () => {
    const [alice, bob, carol] = await Promise.all([user('al'), user('bo'), user('ca')]);
    const id = await group(bob, [alice, carol]);
    await send(bob, id, { kind: 'text', text: '@alice', mentions: [alice.userId] });
    await send(bob, id, { kind: 'text', text: '@carol', mentions: [carol.userId] });
    await send(bob, id, { kind: 'text', text: '@all', mentions: 'all' });
    await send(bob, id);
    let mine = await entry(alice, id);
    assert.equal(mine.unread, 4);
    assert.equal(mine.mentions, 2);
    assert.equal((await entry(carol, id)).mentions, 2);
    assert.equal((await entry(bob, id)).mentions, 0, 'the sender has read its own messages');

    await ok(call('POST', `/v1/conversations/${id}/read`, alice, { seq: 1 }));
    mine = await entry(alice, id);
    assert.equal(mine.unread, 3);
    assert.equal(mine.mentions, 1, 'only @all is above the watermark now');
    // Recalled and hidden messages do not count; an edit that adds a mention does.
    await ok(call('POST', `/v1/conversations/${id}/messages/3/recall`, bob));
    assert.equal((await entry(alice, id)).mentions, 0);
    await ok(
      call('PATCH', `/v1/conversations/${id}/messages/4`, bob, {
        body: { kind: 'text', text: 'and @alice', mentions: [alice.userId] },
      }),
    );
    assert.equal((await entry(alice, id)).mentions, 1);
    await ok(call('POST', `/v1/conversations/${id}/messages/4/hide`, alice));
    assert.equal((await entry(alice, id)).mentions, 0);
    assert.equal((await entry(carol, id)).mentions, 1, 'carol: her own; the @all was recalled');
  });

  it('previews the last message: cut short, its latest state, skipping what the caller hid, within its window', async () => {
    const [alice, bob, carol] = await Promise.all([user('al'), user('bo'), user('ca')]);
    const id = await group(alice, [bob]);
    assert.equal((await entry(bob, id)).lastMessage, null, 'no message yet');
    const long = 'a'.repeat(PREVIEW_CHARS_MAX - 1) + '😀😀';
    await send(alice, id, { kind: 'text', text: 'short' });
    await send(alice, id, { kind: 'text', text: long });
    let last = (await entry(bob, id)).lastMessage;
    assert.equal(last.seq, 2);
    assert.equal(last.sender, alice.userId);
    assert.deepEqual(last.body, {
      kind: 'text',
      text: 'a'.repeat(PREVIEW_CHARS_MAX - 1) + '😀',
      truncated: true,
    });
    const full = (await ok(call('GET', `/v1/conversations/${id}/messages?after=1`, bob))).messages;
    assert.equal(full[0].body.text, long, 'the message itself is whole');

    await send(alice, id, { kind: 'custom', type: 'poll', payload: { big: 'x'.repeat(1000) } });
    assert.deepEqual((await entry(bob, id)).lastMessage.body, { kind: 'custom', type: 'poll' });

    await ok(call('POST', `/v1/conversations/${id}/messages/3/hide`, bob));
    last = (await entry(bob, id)).lastMessage;
    assert.equal(last.seq, 2, 'the hidden message is skipped');
    assert.equal((await entry(alice, id)).lastMessage.seq, 3, 'for the one who hid it only');

    await ok(call('POST', `/v1/conversations/${id}/messages/2/recall`, alice));
    last = (await entry(bob, id)).lastMessage;
    assert.deepEqual([last.seq, last.body, last.recalled], [2, { kind: 'recalled' }, true]);

    await ok(
      call('PATCH', `/v1/conversations/${id}/messages/1`, alice, {
        body: { kind: 'text', text: 'edited' },
      }),
    );
    await ok(call('POST', `/v1/conversations/${id}/messages/2/hide`, bob));
    last = (await entry(bob, id)).lastMessage;
    assert.deepEqual(last.body, { kind: 'text', text: 'edited' });
    assert.equal(typeof last.editedAt, 'number');

    // A member added later (history from its join) sees its own addition, nothing older.
    await ok(call('POST', `/v1/conversations/${id}/members`, alice, { members: [carol.username] }));
    const carols = await entry(carol, id);
    assert.equal(carols.lastMessage.body.event, 'member.added');
    assert.equal(carols.unread, 1);
    assert.equal(carols.mentions, 0);
  });
});

describe('pin and mute', () => {
  it('sets the caller’s own preferences, keeps a pin limit, and refuses bad requests changing nothing', async () => {
    const [alice, bob, eve] = await Promise.all([user('al'), user('bo'), user('ev')]);
    const ids = [await group(alice, [bob]), await group(alice, [bob]), await group(alice, [bob])];
    await ok(prefs(alice, ids[0]!, { pinned: true }));
    await ok(prefs(alice, ids[1]!, { pinned: true, muted: true }));
    const refused = await prefs(alice, ids[2]!, { pinned: true });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.json.error.code, 'too_many_pins');
    assert.deepEqual((await entry(alice, ids[2]!)).preferences, { pinned: false, muted: false });
    // Muting alone is no pin; unpinning frees a slot.
    await ok(prefs(alice, ids[2]!, { muted: true }));
    await ok(prefs(alice, ids[0]!, { pinned: false }));
    await ok(prefs(alice, ids[2]!, { pinned: true }));
    assert.deepEqual((await entry(alice, ids[2]!)).preferences, { pinned: true, muted: true });
    assert.deepEqual((await entry(bob, ids[2]!)).preferences, { pinned: false, muted: false });

    for (const [u, id, body, status, code] of [
      [alice, ids[0]!, {}, 400, 'invalid_request'],
      [alice, ids[0]!, { pinned: 'yes' }, 400, 'invalid_request'],
      [eve, ids[0]!, { pinned: true }, 403, 'not_member'],
      [alice, 'c-nope', { pinned: true }, 404, 'conversation_not_found'],
    ] as const) {
      const res = await prefs(u, id, body);
      assert.equal(res.status, status, res.text);
      assert.equal(res.json.error.code, code);
    }
    assert.deepEqual((await entry(alice, ids[0]!)).preferences, { pinned: false, muted: false });
  });

  it('still delivers the messages of a muted conversation, flagged in the list and sync', async () => {
    const [alice, bob] = await Promise.all([user('al'), user('bo')]);
    const id = await group(alice, [bob]);
    await ok(prefs(bob, id, { muted: true }));
    const rt = await RtClient.connect(server, 'ws-json', bob.token, bob.device);
    try {
      const seq = await send(alice, id);
      const push = await rt.waitFor((f) => f.type === 'message');
      assert.equal(push.seq, seq, 'muted means no notification, not no delivery');
      const synced = await rt.request({ type: 'sync' });
      const state = synced.conversations.find((c: any) => c.id === id);
      assert.deepEqual(state.preferences, { pinned: false, muted: true });
      assert.equal(state.unread, 1);
    } finally {
      rt.drop();
    }
    assert.equal((await entry(bob, id)).unread, 1);
  });
});

describe('sync', () => {
  for (const transport of TRANSPORTS) {
    it(`carries mentions, preferences and the last message, and reports a preference change (${transport})`, async () => {
      const [alice, bob] = await Promise.all([user('al'), user('bo')]);
      const id = await group(alice, [bob]);
      await send(alice, id, {
        kind: 'text',
        text: 'hey @bob, a long line here',
        mentions: [bob.userId],
      });
      const rt = await RtClient.connect(server, transport, bob.token, bob.device);
      try {
        const first = await rt.request({ type: 'sync' });
        const state = first.conversations.find((c: any) => c.id === id);
        assert.equal(state.mentions, 1);
        assert.deepEqual(state.preferences, { pinned: false, muted: false });
        assert.equal(state.last.seq, 1);
        assert.equal(state.last.sender, alice.userId);
        assert.deepEqual(state.last.body, {
          kind: 'text',
          text: 'hey @bob, a long lin',
          mentions: [bob.userId],
          truncated: true,
        });
        // Pinning on another device shows up in this device's next sync.
        await ok(prefs(bob, id, { pinned: true }));
        const next = await rt.request({ type: 'sync', cursor: first.cursor });
        const changed = next.conversations.find((c: any) => c.id === id);
        assert.deepEqual(changed?.preferences, { pinned: true, muted: false });
        // The preview shows an edit's latest body and time.
        const edit = await ok(
          call('PATCH', `/v1/conversations/${id}/messages/1`, alice, {
            body: { kind: 'text', text: 'edited' },
          }),
        );
        const full = await rt.request({ type: 'sync' });
        const latest = full.conversations.find((c: any) => c.id === id).last;
        assert.deepEqual(latest.body, { kind: 'text', text: 'edited' });
        assert.equal(latest.editedAt, edit.message.editedAt);
        const empty = await group(alice, [bob]);
        const again = await rt.request({ type: 'sync' });
        const none = again.conversations.find((c: any) => c.id === empty);
        assert.equal(none.last, undefined);
        assert.equal(none.mentions, 0);
      } finally {
        rt.drop();
      }
    });
  }
});

describe('sync: messages changed since the cursor', () => {
  const act = (u: User, id: string, seq: number, what: string, body?: unknown) =>
    ok(
      call(
        what === 'edit' ? 'PATCH' : 'POST',
        `/v1/conversations/${id}/messages/${seq}${what === 'edit' ? '' : `/${what}`}`,
        u,
        body,
      ),
    );

  for (const transport of TRANSPORTS) {
    it(`reports edits, recalls, reactions and the user's hides of messages a device already holds (${transport})`, async () => {
      const [alice, bob] = await Promise.all([user('al'), user('bo')]);
      const id = await group(alice, [bob]);
      const quiet = await group(alice, [bob]);
      for (let i = 0; i < 4; i++) await send(alice, id);
      await send(alice, quiet);
      const rt = await RtClient.connect(server, transport, bob.token, bob.device);
      try {
        const first = await rt.request({ type: 'sync' });
        assert.ok(
          first.conversations.every((c: any) => c.changed === undefined),
          'a first sync holds nothing that could have changed',
        );
        // Meanwhile (the device is away): an edit, a recall, a reaction, and a hide by bob on
        // another device; and a plain send, which is not a change.
        const edit = await act(alice, id, 1, 'edit', { body: { kind: 'text', text: 'edited' } });
        await act(alice, id, 2, 'recall');
        await act(alice, id, 3, 'reactions', { emoji: '👍' });
        await act(bob, id, 4, 'hide');
        await send(alice, quiet);

        const next = await rt.request({ type: 'sync', cursor: first.cursor });
        const state = next.conversations.find((c: any) => c.id === id);
        assert.deepEqual(
          state.changed.map((m: any) => m.seq),
          [1, 2, 3, 4],
        );
        const [edited, recalled, reacted, hidden] = state.changed;
        assert.deepEqual(edited.body, { kind: 'text', text: 'edited' });
        assert.equal(edited.editedAt, edit.message.editedAt);
        assert.equal(recalled.recalled, true);
        assert.deepEqual(recalled.body, { kind: 'recalled' });
        assert.deepEqual(reacted.reactions, [{ emoji: '👍', count: 1, me: false }]);
        assert.equal(hidden.hidden, true);
        assert.deepEqual(hidden.body, { kind: 'hidden' });
        assert.equal(state.changedMore, undefined);
        const other = next.conversations.find((c: any) => c.id === quiet);
        assert.ok(other, 'the conversation with a new message is listed');
        assert.equal(other.changed, undefined, 'a plain send is not a change');
      } finally {
        rt.drop();
      }
    });
  }

  it('lists at most 100 changed messages, the lowest seqs, and flags the rest', async () => {
    const [alice, bob] = await Promise.all([user('al'), user('bo')]);
    const id = await group(alice, [bob]);
    for (let i = 0; i < 101; i++) await send(alice, id);
    const rt = await RtClient.connect(server, 'ws-json', bob.token, bob.device);
    try {
      const first = await rt.request({ type: 'sync' });
      for (let seq = 101; seq >= 1; seq--) await act(alice, id, seq, 'reactions', { emoji: '🎉' });
      const next = await rt.request({ type: 'sync', cursor: first.cursor });
      const state = next.conversations.find((c: any) => c.id === id);
      assert.equal(state.changed.length, 100);
      assert.equal(state.changed[0].seq, 1);
      assert.equal(state.changed[99].seq, 100);
      assert.equal(state.changedMore, true);
    } finally {
      rt.drop();
    }
  });
});
