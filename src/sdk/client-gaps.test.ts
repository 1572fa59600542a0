// Proves against a real server that the SDK client closes forced seq gaps by itself (pushes
// discarded by the test-only inbound hook) and hands the application every message once and in
// seq order, starts new conversations at their first message, and reports receipts, typing,
// presence, recalls and group changes as typed events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { record, sdkTestServer } from '../test-support/sdk.js';
import { sleep, until, withTimeout } from '../test-support/wait.js';
import { ParleyApi } from './api.js';
import type { ClientOptions } from './types.js';
import type { Body, SendableBody } from './body.js';

/** The text of a text body, else undefined: the SDK's bodies are a union by `kind`. */
const textOf = (b: Body | undefined | null) => (b?.kind === 'text' ? b.text : undefined);
/** The event of a system body, else undefined. */
const eventOf = (b: Body | undefined | null) => (b?.kind === 'system' ? b.event : undefined);

const PASSWORD = 'correct horse battery';
const WAIT_MS = 10_000;
/** How long to keep listening for a second copy after the last expected message. */
const QUIET_MS = 300;

interface Account {
  readonly api: ParleyApi;
  readonly id: string;
  readonly username: string;
  readonly token: string;
  readonly device: string;
}

async function account(url: string, username: string): Promise<Account> {
  const api = new ParleyApi({ url });
  const r = await api.register({ username, password: PASSWORD, device: `${username}-laptop` });
  return { api, id: r.user.id, username, token: r.token, device: r.device };
}

describe('SDK client: gaps, order and live events', () => {
  const server = sdkTestServer();

  const connect = async (who: Account, extra: Partial<ClientOptions> = {}) => {
    const client = server.client({ token: who.token, device: who.device, ...extra });
    await withTimeout(client.connect(), WAIT_MS, `${who.username} connects`);
    return client;
  };

  it('closes a forced seq gap by itself: every message once, in order', async () => {
    const alice = await account(server.url, 'gap_alice');
    const bob = await account(server.url, 'gap_bob');
    const conversation = (await alice.api.conversations.openDirect('gap_bob')).id;
    const toDrop = new Set([3, 4, 5, 12, 20]);
    const dropped: number[] = [];
    const receiver = await connect(bob, {
      // TEST ONLY: lose some pushes, as a network or a slow link would.
      testDropInbound: (frame) => {
        const f = frame as { type: string; seq?: number };
        if (f.type !== 'message' || f.seq === undefined || !toDrop.has(f.seq)) return false;
        toDrop.delete(f.seq);
        dropped.push(f.seq);
        return true;
      },
    });
    const got = record(receiver, 'message');
    const sender = await connect(alice);

    const COUNT = 30;
    const sent = await withTimeout(
      Promise.all(
        Array.from({ length: COUNT }, (_, i) =>
          sender.send(conversation, { kind: 'text', text: `gap ${i}` }),
        ),
      ),
      WAIT_MS,
      'all sends acknowledged',
    );
    assert.deepEqual(
      sent.map((m) => m.seq),
      Array.from({ length: COUNT }, (_, i) => i + 1),
    );

    await until(() => got.length >= COUNT, WAIT_MS, 'the receiver gets every message');
    await sleep(QUIET_MS);
    assert.deepEqual(
      dropped.sort((a, b) => a - b),
      [3, 4, 5, 12, 20],
      'the hook dropped pushes',
    );
    assert.equal(got.length, COUNT, 'no message twice');
    assert.deepEqual(
      got.map((m) => m.seq),
      Array.from({ length: COUNT }, (_, i) => i + 1),
    );
    assert.deepEqual(
      got.map((m) => textOf(m.body)),
      Array.from({ length: COUNT }, (_, i) => `gap ${i}`),
    );
    for (const m of got) {
      assert.equal(m.conversation, conversation);
      assert.equal(m.sender, alice.id);
      assert.equal(m.id, sent[m.seq - 1]?.id, 'the message id is the one the sender was given');
    }
  });

  it('emits this device’s own sends once, in seq order with the others’ messages', async () => {
    const carol = await account(server.url, 'own_carol');
    const dave = await account(server.url, 'own_dave');
    const conversation = (await carol.api.conversations.openDirect('own_dave')).id;
    const c = await connect(carol);
    const d = await connect(dave);
    const cGot = record(c, 'message');
    const cSent = record(c, 'sent');
    await c.send(conversation, { kind: 'text', text: 'one' });
    await d.send(conversation, { kind: 'text', text: 'two' });
    await c.send(conversation, { kind: 'text', text: 'three' });
    await until(() => cGot.length >= 3, WAIT_MS, 'carol sees three messages');
    await sleep(QUIET_MS);
    assert.deepEqual(
      cGot.map((m) => [m.seq, textOf(m.body), m.sender]),
      [
        [1, 'one', carol.id],
        [2, 'two', dave.id],
        [3, 'three', carol.id],
      ],
    );
    assert.deepEqual(
      cSent.map((m) => [m.seq, m.duplicate]),
      [
        [1, false],
        [3, false],
      ],
    );
  });

  it('starts at the present: history before connect is left to pull, later messages come live', async () => {
    const erin = await account(server.url, 'base_erin');
    const frank = await account(server.url, 'base_frank');
    const conversation = (await erin.api.conversations.openDirect('base_frank')).id;
    for (let i = 0; i < 5; i++) {
      await erin.api.messages.send(conversation, `old-${i}`, { kind: 'text', text: `old ${i}` });
    }
    const f = await connect(frank);
    const got = record(f, 'message');
    const synced = record(f, 'synced');
    await until(() => synced.length >= 1, WAIT_MS, 'the first catch-up ends');
    await erin.api.messages.send(conversation, 'new-0', { kind: 'text', text: 'new' });
    await until(() => got.length >= 1, WAIT_MS, 'the live message');
    await sleep(QUIET_MS);
    assert.deepEqual(
      got.map((m) => [m.seq, textOf(m.body)]),
      [[6, 'new']],
    );
    const page = await f.pull(conversation, { before: 6, limit: 3 });
    assert.deepEqual(
      page.messages.map((m) => textOf(m.body)),
      ['old 2', 'old 3', 'old 4'],
    );
    assert.equal(page.hasMore, true);
  });

  it('catches a conversation created after connect up from its first message', async () => {
    const gina = await account(server.url, 'new_gina');
    const hank = await account(server.url, 'new_hank');
    const h = await connect(hank);
    const got = record(h, 'message');
    const members = record(h, 'member');
    await until(() => h.state === 'online', WAIT_MS, 'online');
    await sleep(QUIET_MS); // the first sync is done; the group below is new to this client
    const group = await gina.api.groups.create({ title: 'Late', members: ['new_hank'] });
    await gina.api.messages.send(group.id, 'late-1', { kind: 'text', text: 'welcome' });
    await gina.api.groups.title(group.id, 'Later');
    await until(() => got.length >= 2, WAIT_MS, 'the group messages');
    await until(() => members.length >= 1, WAIT_MS, 'the member push');
    await sleep(QUIET_MS);
    const inGroup = got.filter((m) => m.conversation === group.id);
    assert.deepEqual(
      inGroup.map((m) => m.seq),
      inGroup.map((_, i) => i + 1),
      'from seq 1, dense',
    );
    assert.equal(inGroup.at(-1)?.body.kind, 'system');
    assert.equal(textOf(inGroup.find((m) => m.body.kind === 'text')?.body), 'welcome');
    assert.equal(members.at(-1)?.event, 'title.changed');
    assert.equal(members.at(-1)?.title, 'Later');

    // Removed: the client gets the news, and does not ack into a group it is no longer in.
    const errors = record(h, 'error');
    await gina.api.groups.remove(group.id, hank.id);
    await until(
      () => members.some((e) => e.event === 'member.removed'),
      WAIT_MS,
      'the removal push',
    );
    await until(
      () => got.some((m) => eventOf(m.body) === 'member.removed'),
      WAIT_MS,
      'the removal message',
    );
    await sleep(QUIET_MS);
    assert.deepEqual(
      errors.map((e) => e.code),
      [],
    );
  });

  it('reports receipts, typing, presence and recalls', async () => {
    const ivy = await account(server.url, 'ev_ivy');
    const jack = await account(server.url, 'ev_jack');
    const conversation = (await ivy.api.conversations.openDirect('ev_jack')).id;
    const i = await connect(ivy);
    const presence = record(i, 'presence');
    const receipts = record(i, 'receipt');
    const recalled = record(i, 'recalled');
    const j = await connect(jack);
    const typing = record(j, 'typing');
    const jGot = record(j, 'message');
    const jRecalled = record(j, 'recalled');

    await until(() => presence.some((p) => p.user === jack.id && p.online), WAIT_MS, 'online');
    const m = await i.send(conversation, { kind: 'text', text: 'read me' });
    await until(() => jGot.length >= 1, WAIT_MS, 'jack gets it');
    // The automatic ack gives a delivered receipt; markRead gives a read receipt.
    await until(
      () => receipts.some((r) => r.user === jack.id && r.deliveredSeq >= m.seq),
      WAIT_MS,
      'delivered receipt',
    );
    j.markRead(conversation, m.seq);
    await until(
      () => receipts.some((r) => r.user === jack.id && r.readSeq === m.seq),
      WAIT_MS,
      'read receipt',
    );

    i.typing(conversation);
    i.typing(conversation); // throttled: one frame per 3 s
    await until(() => typing.length >= 1, WAIT_MS, 'typing');
    assert.deepEqual(typing[0], { conversation, user: ivy.id });

    const answer = await i.recall(conversation, m.seq);
    assert.deepEqual(answer, { conversation, seq: m.seq, by: ivy.id });
    await until(() => jRecalled.length >= 1, WAIT_MS, 'the recalled push');
    assert.deepEqual(jRecalled[0], { conversation, seq: m.seq, by: ivy.id });
    assert.equal(recalled.length, 1, 'the recalling client reports its own recall once');
    const page = await j.pull(conversation, { after: 0 });
    assert.equal(page.messages[0]?.recalled, true);
    assert.equal(page.messages[0]?.body.kind, 'recalled');
    await sleep(QUIET_MS);
    assert.equal(typing.length, 1, 'the second typing call was throttled');

    await j.close();
    await until(() => presence.some((p) => p.user === jack.id && !p.online), WAIT_MS, 'offline');
  });

  it('rejects a refused send with the server’s code and keeps the client usable', async () => {
    const kim = await account(server.url, 'err_kim');
    await account(server.url, 'err_lee');
    const conversation = (await kim.api.conversations.openDirect('err_lee')).id;
    const k = await connect(kim);
    const failed = record(k, 'failed');
    // Cast: the SDK's types refuse the kind already; this checks that the server does too.
    const nonsense = { kind: 'nonsense' } as unknown as SendableBody;
    await assert.rejects(k.send(conversation, nonsense), {
      name: 'ParleyClientError',
      code: 'invalid_request',
    });
    await assert.rejects(k.send('c-does-not-exist', { kind: 'text', text: 'x' }), {
      code: 'conversation_not_found',
    });
    assert.equal(failed.length, 2);
    assert.deepEqual(k.pending(), [], 'refused sends leave the outbox');
    const ok = await k.send(conversation, { kind: 'text', text: 'still fine' });
    assert.equal(ok.seq, 1, 'the refusals used up no seq');
  });
});
