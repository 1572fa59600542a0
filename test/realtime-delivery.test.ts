// Proves over real sockets, on every transport (WebSocket JSON, WebSocket Protobuf, TCP), that the gateway pushes each stored message exactly once and in seq order to every other device, dedupes retried sends, moves watermarks with receipts, recalls, relays typing and presence, and answers bad requests with coded errors that echo the frame id.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, register, startTestServer, type TestServer } from '../src/test-support/server.js';
import { RtClient, TRANSPORTS, type Transport } from '../src/test-support/rt-client.js';
import { sleep, withTimeout } from '../src/test-support/wait.js';

const PASSWORD = 'correct horse battery';
/** How long a test waits for a frame that must arrive. */
const WAIT_MS = 5_000;
/** How long a test waits after a marker before it counts frames that must not arrive. */
const QUIET_MS = 200;

type Frame = Awaited<ReturnType<RtClient['request']>>;

interface User {
  readonly username: string;
  readonly userId: string;
  readonly token: string;
  readonly device: string;
}

/** A number field as sent: Protobuf leaves out zeros, so an absent one is 0. */
const n = (v: unknown): number => (v === undefined ? 0 : (v as number));

async function newUser(url: string, username: string, device: string): Promise<User> {
  const u = await register(url, username, PASSWORD, device);
  return { username, userId: u.userId, token: u.token, device: u.device };
}

/** Logs an existing user in on another device. */
async function onDevice(url: string, user: User, device: string): Promise<User> {
  const res = await http('POST', `${url}/v1/auth/login`, {
    body: { username: user.username, password: PASSWORD, device },
  });
  assert.equal(res.status, 200, res.text);
  return { ...user, token: res.json.token, device };
}

async function direct(url: string, user: User, withUsername: string): Promise<string> {
  const res = await http('POST', `${url}/v1/conversations`, {
    token: user.token,
    body: { kind: 'direct', with: withUsername },
  });
  assert.ok(res.status === 201 || res.status === 200, res.text);
  return res.json.id;
}

async function group(url: string, owner: User, title: string, members: User[]): Promise<string> {
  const res = await http('POST', `${url}/v1/conversations`, {
    token: owner.token,
    body: { kind: 'group', title, members: members.map((m) => m.username) },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.id;
}

/** Every client opened by a test; the test closes them in `finally` (and `after` as a backstop). */
const opened = new Set<RtClient>();

async function connect(server: TestServer, transport: Transport, user: User): Promise<RtClient> {
  const client = await withTimeout(
    RtClient.connect(server, transport, user.token, user.device),
    WAIT_MS,
    `connect ${user.username}/${user.device} over ${transport}`,
  );
  opened.add(client);
  return client;
}

async function closeAll(clients: Iterable<RtClient>): Promise<void> {
  await Promise.all(
    [...clients].map(async (c) => {
      opened.delete(c);
      if (!c.isClosed) c.drop();
      await withTimeout(c.closed, WAIT_MS, 'client close');
    }),
  );
}

/** The `message` pushes this client got for one conversation. */
function pushes(client: RtClient, conversation: string): Frame[] {
  return client.ofType('message').filter((f) => f.conversation === conversation);
}

function waitPush(client: RtClient, conversation: string, text: string): Promise<Frame> {
  return client.waitFor(
    (f) => f.type === 'message' && f.conversation === conversation && f.body?.text === text,
    { timeoutMs: WAIT_MS },
  );
}

async function sendText(
  client: RtClient,
  conversation: string,
  ref: string,
  text: string,
): Promise<Frame> {
  const sent = await client.request(
    { type: 'send', ref, conversation, body: { kind: 'text', text } },
    WAIT_MS,
  );
  assert.equal(sent.type, 'sent', JSON.stringify(sent));
  return sent;
}

function assertError(frame: Frame, code: string, id?: string): void {
  assert.equal(frame.type, 'error', JSON.stringify(frame));
  assert.equal(frame.code, code, JSON.stringify(frame));
  assert.equal(typeof frame.message, 'string');
  if (id !== undefined) assert.equal(frame.id, id);
}

async function sync(client: RtClient, cursor?: string): Promise<Frame> {
  const synced = await client.request(
    { type: 'sync', ...(cursor !== undefined ? { cursor } : {}) },
    WAIT_MS,
  );
  assert.equal(synced.type, 'synced', JSON.stringify(synced));
  return synced;
}

function stateOf(synced: Frame, conversation: string): any {
  const state = (synced.conversations as any[]).find((c) => c.id === conversation);
  assert.ok(state, `sync lacks ${conversation}: ${JSON.stringify(synced)}`);
  return state;
}

let server: TestServer;
/** A second server whose recall window is 200 ms. */
let shortRecall: TestServer;

before(async () => {
  [server, shortRecall] = await Promise.all([
    startTestServer({ PARLEY_TCP_PORT: '0' }),
    startTestServer({ PARLEY_TCP_PORT: '0', PARLEY_RECALL_WINDOW_MS: '200' }),
  ]);
});

after(async () => {
  await closeAll([...opened]);
  await Promise.all([server?.close(), shortRecall?.close()]);
});

for (const transport of TRANSPORTS) {
  describe(`real-time delivery over ${transport}`, () => {
    const p = transport.replace('-', '');
    let alice: User; // device a1
    let alice2: User; // device a2
    let bob: User; // device b1
    let carol: User; // device c1
    let dave: User; // device d1, in none of alice's conversations
    let chat: string; // alice ↔ bob
    let team: string; // alice, bob, carol
    let elsewhere: string; // bob ↔ carol: alice is not a member

    before(async () => {
      [alice, bob, carol, dave] = await Promise.all([
        newUser(server.url, `${p}_alice`, 'a1'),
        newUser(server.url, `${p}_bob`, 'b1'),
        newUser(server.url, `${p}_carol`, 'c1'),
        newUser(server.url, `${p}_dave`, 'd1'),
      ]);
      alice2 = await onDevice(server.url, alice, 'a2');
      chat = await direct(server.url, alice, bob.username);
      team = await group(server.url, alice, `${p} team`, [bob, carol]);
      elsewhere = await direct(server.url, bob, carol.username);
    });

    it('pushes 20 concurrent sends to every other device exactly once, in seq order', async () => {
      const a1 = await connect(server, transport, alice);
      const a2 = await connect(server, transport, alice2);
      const b1 = await connect(server, transport, bob);
      try {
        const sends = Array.from({ length: 20 }, (_, i) =>
          sendText(a1, chat, `burst-${i}`, `burst message ${i}`),
        );
        const sent = await Promise.all(sends);
        sent.forEach((s, i) => {
          assert.equal(s.ref, `burst-${i}`);
          assert.equal(s.conversation, chat);
          assert.ok(!s.duplicate, 'a first send is no duplicate');
          assert.equal(typeof s.messageId, 'string');
          assert.equal(typeof s.at, 'number');
        });
        assert.deepEqual(
          sent.map((s) => s.seq as number).sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, i) => i + 1),
          'seqs are dense from 1',
        );
        const bySeq = new Map(sent.map((s, i) => [s.seq as number, { sent: s, i }]));

        // A marker from bob: once alice's first device has it, any push of her own sends would
        // have come before it on the same link.
        await sendText(b1, chat, 'burst-marker', 'marker from bob');
        await Promise.all([
          waitPush(a1, chat, 'marker from bob'),
          waitPush(a2, chat, 'marker from bob'),
          b1.waitForCount('message', 20, WAIT_MS),
        ]);
        await sleep(QUIET_MS);

        for (const [name, client] of [
          ['bob/b1', b1],
          ['alice/a2', a2],
        ] as const) {
          const got = pushes(client, chat).filter((f) => f.sender === alice.userId);
          assert.deepEqual(
            got.map((f) => f.seq),
            Array.from({ length: 20 }, (_, i) => i + 1),
            `${name} gets every seq once, in order`,
          );
          for (const f of got) {
            const { sent: s, i } = bySeq.get(f.seq)!;
            assert.equal(f.messageId, s.messageId, `${name} seq ${f.seq} id`);
            assert.deepEqual(f.body, { kind: 'text', text: `burst message ${i}` });
            assert.equal(f.sender, alice.userId);
            assert.equal(f.device, 'a1');
            assert.equal(f.at, s.at);
            assert.equal(f.id, undefined, 'a push carries no request id');
          }
        }
        assert.deepEqual(
          pushes(a1, chat).map((f) => f.body.text),
          ['marker from bob'],
          'the sending device gets no push of its own sends',
        );
        assert.equal(a1.ofType('sent').length, 20);
      } finally {
        await closeAll([a1, a2, b1]);
      }
    });

    it('answers a retried ref with the original seq and id, and pushes it only once', async () => {
      const a1 = await connect(server, transport, alice);
      const a2 = await connect(server, transport, alice2);
      const b1 = await connect(server, transport, bob);
      try {
        const first = await sendText(a1, chat, 'retry-1', 'sent twice');
        assert.ok(!first.duplicate);
        const again = await sendText(a1, chat, 'retry-1', 'sent twice');
        assert.equal(again.duplicate, true);
        assert.equal(again.seq, first.seq);
        assert.equal(again.messageId, first.messageId);
        assert.equal(again.ref, 'retry-1');
        // A retry with another body still answers with the original: nothing new is stored.
        const third = await sendText(a1, chat, 'retry-1', 'a different body');
        assert.equal(third.duplicate, true);
        assert.equal(third.seq, first.seq);

        const marker = await sendText(a1, chat, 'retry-marker', 'after the retries');
        assert.equal(marker.seq, first.seq + 1, 'a duplicate takes no seq');
        await Promise.all([
          waitPush(b1, chat, 'after the retries'),
          waitPush(a2, chat, 'after the retries'),
        ]);
        await sleep(QUIET_MS);
        for (const client of [b1, a2]) {
          const got = pushes(client, chat);
          assert.deepEqual(
            got.map((f) => f.seq),
            [first.seq, marker.seq],
          );
          assert.deepEqual(got[0]!.body, { kind: 'text', text: 'sent twice' });
        }
        assert.equal(pushes(a1, chat).length, 0);
      } finally {
        await closeAll([a1, a2, b1]);
      }
    });

    it('pushes a group message once to every member device but the sending one', async () => {
      const a1 = await connect(server, transport, alice);
      const a2 = await connect(server, transport, alice2);
      const b1 = await connect(server, transport, bob);
      const c1 = await connect(server, transport, carol);
      const d1 = await connect(server, transport, dave);
      try {
        const sent = await sendText(a1, team, 'team-1', 'hello team');
        const marker = await sendText(c1, team, 'team-marker', 'carol marks');
        await Promise.all([a1, a2, b1].map((c) => waitPush(c, team, 'carol marks')));
        await sleep(QUIET_MS);
        for (const [name, client] of [
          ['alice/a2', a2],
          ['bob/b1', b1],
          ['carol/c1', c1],
        ] as const) {
          const got = pushes(client, team).filter((f) => f.seq === sent.seq);
          assert.equal(got.length, 1, `${name} gets the message once`);
          assert.equal(got[0]!.messageId, sent.messageId);
          assert.deepEqual(got[0]!.body, { kind: 'text', text: 'hello team' });
          assert.equal(got[0]!.sender, alice.userId);
        }
        assert.deepEqual(
          pushes(a1, team).map((f) => f.seq),
          [marker.seq],
        );
        assert.deepEqual(
          pushes(c1, team).map((f) => f.seq),
          [sent.seq],
          'carol gets no push of her own marker',
        );
        assert.equal(d1.ofType('message').length, 0, 'a non-member gets nothing');
      } finally {
        await closeAll([a1, a2, b1, c1, d1]);
      }
    });

    it('moves deliveredSeq with ack and readSeq with read, with receipts and sync', async () => {
      const a1 = await connect(server, transport, alice);
      const b1 = await connect(server, transport, bob);
      try {
        const before = stateOf(await sync(b1), chat);
        const readBefore = n(before.readSeq);
        const sent: Frame[] = [];
        for (let i = 0; i < 3; i++) sent.push(await sendText(a1, chat, `wm-${i}`, `wm ${i}`));
        const last = sent[2]!.seq as number;
        assert.ok(last > readBefore);

        // ack: no reply; the receipt tells alice (and bob's own devices).
        let from = a1.frames.length;
        b1.send({ type: 'ack', conversation: chat, seq: last - 1 });
        const delivered = await a1.waitFor(
          (f) => f.type === 'receipt' && f.user === bob.userId && f.deliveredSeq === last - 1,
          { timeoutMs: WAIT_MS, from },
        );
        assert.equal(delivered.conversation, chat);
        assert.equal(n(delivered.readSeq), readBefore, 'ack does not move readSeq');
        await b1.waitFor((f) => f.type === 'receipt' && f.deliveredSeq === last - 1, {
          timeoutMs: WAIT_MS,
        });
        const afterAck = stateOf(await sync(b1), chat);
        assert.equal(afterAck.lastSeq, last);
        assert.equal(afterAck.deliveredSeq, last - 1);
        assert.equal(n(afterAck.readSeq), readBefore);
        assert.equal(afterAck.unread, last - readBefore);

        // read: members get a receipt with the new readSeq.
        from = a1.frames.length;
        b1.send({ type: 'read', conversation: chat, seq: last - 1 });
        const read = await a1.waitFor(
          (f) => f.type === 'receipt' && f.user === bob.userId && f.readSeq === last - 1,
          { timeoutMs: WAIT_MS, from },
        );
        assert.equal(read.deliveredSeq, last - 1);
        await b1.waitFor((f) => f.type === 'receipt' && f.readSeq === last - 1, {
          timeoutMs: WAIT_MS,
        });
        const afterRead = stateOf(await sync(b1), chat);
        assert.equal(afterRead.readSeq, last - 1);
        assert.equal(afterRead.deliveredSeq, last - 1);
        assert.equal(afterRead.unread, 1);

        // A watermark never moves back, and never past the last message.
        b1.send({ type: 'read', conversation: chat, seq: 1 });
        from = a1.frames.length;
        b1.send({ type: 'read', conversation: chat, seq: last + 1000 });
        await a1.waitFor((f) => f.type === 'receipt' && f.readSeq === last, {
          timeoutMs: WAIT_MS,
          from,
        });
        const capped = stateOf(await sync(b1), chat);
        assert.equal(capped.readSeq, last);
        assert.equal(capped.deliveredSeq, last);
        assert.equal(n(capped.unread), 0);
      } finally {
        await closeAll([a1, b1]);
      }
    });

    it('recalls a message for everyone, for its sender only, while its seq stays', async () => {
      const a1 = await connect(server, transport, alice);
      const a2 = await connect(server, transport, alice2);
      const b1 = await connect(server, transport, bob);
      try {
        const target = await sendText(a1, chat, 'recall-1', 'oops');
        const next = await sendText(a1, chat, 'recall-2', 'still here');
        await waitPush(b1, chat, 'still here');

        const reply = await a1.request(
          { type: 'recall', conversation: chat, seq: target.seq },
          WAIT_MS,
        );
        assert.equal(reply.type, 'recalled', JSON.stringify(reply));
        assert.match(String(reply.id), /^t\d+$/);
        assert.equal(reply.conversation, chat);
        assert.equal(reply.seq, target.seq);
        assert.equal(reply.by, alice.userId);
        for (const client of [b1, a2]) {
          const push = await client.waitFor(
            (f) => f.type === 'recalled' && f.conversation === chat && f.seq === target.seq,
            { timeoutMs: WAIT_MS },
          );
          assert.equal(push.by, alice.userId);
        }

        const pulled = await b1.request(
          { type: 'pull', conversation: chat, after: target.seq - 1, limit: 2 },
          WAIT_MS,
        );
        assert.equal(pulled.type, 'pulled', JSON.stringify(pulled));
        const [gone, kept] = pulled.messages as any[];
        assert.equal(gone.seq, target.seq, 'the recalled message keeps its seq');
        assert.equal(gone.messageId, target.messageId);
        assert.deepEqual(gone.body, { kind: 'recalled' });
        assert.equal(gone.recalled, true);
        assert.equal(kept.seq, next.seq);
        assert.deepEqual(kept.body, { kind: 'text', text: 'still here' });
        assert.ok(!kept.recalled);

        // Only the sender may recall.
        const notMine = await b1.request(
          { type: 'recall', conversation: chat, seq: next.seq },
          WAIT_MS,
        );
        assertError(notMine, 'forbidden');
        const stillThere = await b1.request(
          { type: 'pull', conversation: chat, after: next.seq - 1, limit: 1 },
          WAIT_MS,
        );
        assert.deepEqual(stillThere.messages[0].body, { kind: 'text', text: 'still here' });

        const missing = await a1.request(
          { type: 'recall', conversation: chat, seq: next.seq + 100 },
          WAIT_MS,
        );
        assertError(missing, 'message_not_found');
      } finally {
        await closeAll([a1, a2, b1]);
      }
    });

    it('refuses a recall after the recall window with recall_expired', async () => {
      const [a, b] = await Promise.all([
        newUser(shortRecall.url, `${p}_late_a`, 'la'),
        newUser(shortRecall.url, `${p}_late_b`, 'lb'),
      ]);
      const conversation = await direct(shortRecall.url, a, b.username);
      const la = await connect(shortRecall, transport, a);
      const lb = await connect(shortRecall, transport, b);
      try {
        const sent = await sendText(la, conversation, 'late-1', 'too late to take back');
        await waitPush(lb, conversation, 'too late to take back');
        await sleep(400);
        const reply = await la.request({ type: 'recall', conversation, seq: sent.seq }, WAIT_MS);
        assertError(reply, 'recall_expired');
        await sleep(QUIET_MS);
        assert.equal(lb.ofType('recalled').length, 0, 'nothing is recalled');
        const pulled = await lb.request({ type: 'pull', conversation, after: 0 }, WAIT_MS);
        assert.deepEqual(pulled.messages[0].body, { kind: 'text', text: 'too late to take back' });
      } finally {
        await closeAll([la, lb]);
      }
    });

    it('relays typing to the other members with who types, and refuses non-members', async () => {
      const a1 = await connect(server, transport, alice);
      const a2 = await connect(server, transport, alice2);
      const b1 = await connect(server, transport, bob);
      const c1 = await connect(server, transport, carol);
      try {
        a1.send({ type: 'typing', conversation: team });
        for (const client of [b1, c1]) {
          const typing = await client.waitFor(
            (f) => f.type === 'typing' && f.conversation === team,
            { timeoutMs: WAIT_MS },
          );
          assert.equal(typing.user, alice.userId);
        }
        // Bob types next: once alice's devices have his, hers would have come before.
        b1.send({ type: 'typing', conversation: team });
        await Promise.all(
          [a1, a2, c1].map((c) =>
            c.waitFor((f) => f.type === 'typing' && f.user === bob.userId, {
              timeoutMs: WAIT_MS,
            }),
          ),
        );
        for (const client of [a1, a2]) {
          assert.equal(
            client.ofType('typing').filter((f) => f.user === alice.userId).length,
            0,
            'the typer gets no typing of her own',
          );
        }
        assert.equal(b1.ofType('typing').filter((f) => f.user === bob.userId).length, 0);
        assert.equal(c1.ofType('typing').length, 2);

        const refused = await a1.request({ type: 'typing', conversation: elsewhere }, WAIT_MS);
        assertError(refused, 'not_member');
        await sleep(QUIET_MS);
        assert.equal(
          b1.ofType('typing').filter((f) => f.conversation === elsewhere).length,
          0,
          'a refused typing reaches nobody',
        );
      } finally {
        await closeAll([a1, a2, b1, c1]);
      }
    });

    it('answers bad requests with coded errors that echo the id, and keeps the link', async () => {
      const a1 = await connect(server, transport, alice);
      try {
        const body = { kind: 'text', text: 'nowhere' };
        const unknown = await a1.request(
          { type: 'send', ref: 'err-1', conversation: 'c_does_not_exist', body },
          WAIT_MS,
        );
        assertError(unknown, 'conversation_not_found');
        assert.equal(unknown.ref, 'err-1');

        const notMine = await a1.request(
          { type: 'send', ref: 'err-2', conversation: elsewhere, body },
          WAIT_MS,
        );
        assertError(notMine, 'not_member');
        assert.equal(notMine.ref, 'err-2');

        const pullElsewhere = await a1.request({ type: 'pull', conversation: elsewhere }, WAIT_MS);
        assertError(pullElsewhere, 'not_member');

        if (transport === 'ws-json') {
          // Wrong field types can only be written in JSON; Protobuf types every field.
          const badSeq = await a1.request({ type: 'ack', conversation: chat, seq: 'x' }, WAIT_MS);
          assertError(badSeq, 'bad_frame');
          const badBody = await a1.request(
            { type: 'send', ref: 'err-3', conversation: chat, body: 'not an object' },
            WAIT_MS,
          );
          assertError(badBody, 'bad_frame');
          const unknownType = await a1.request({ type: 'shout' }, WAIT_MS);
          assertError(unknownType, 'bad_frame');
        }
        // A required field left out is a bad frame on every codec.
        const noConversation = await a1.request({ type: 'pull', limit: 5 }, WAIT_MS);
        assertError(noConversation, 'bad_frame');
        const noRef = await a1.request({ type: 'send', conversation: chat, body }, WAIT_MS);
        assertError(noRef, 'bad_frame');

        const pong = await a1.request({ type: 'ping' }, WAIT_MS);
        assert.equal(pong.type, 'pong', 'the link stays open after errors');
        assert.equal(a1.isClosed, false);
        assert.equal(a1.ofType('sent').length, 0, 'no refused send was stored or acknowledged');
      } finally {
        await closeAll([a1]);
      }
    });

    it('tells direct peers when a user comes online and when the last device goes', async () => {
      const [pa, pb, pc] = await Promise.all([
        newUser(server.url, `${p}_pres_a`, 'pa'),
        newUser(server.url, `${p}_pres_b`, 'pb1'),
        newUser(server.url, `${p}_pres_c`, 'pc'),
      ]);
      const pb2 = await onDevice(server.url, pb, 'pb2');
      await direct(server.url, pa, pb.username);
      // pc shares only a group with pb: group members are not presence peers.
      await group(server.url, pc, `${p} presence group`, [pb]);
      const ca = await connect(server, transport, pa);
      const cc = await connect(server, transport, pc);
      let b1: RtClient | undefined;
      let b2: RtClient | undefined;
      try {
        b1 = await connect(server, transport, pb);
        const online = await ca.waitFor((f) => f.type === 'presence' && f.user === pb.userId, {
          timeoutMs: WAIT_MS,
        });
        assert.equal(online.online, true);
        // The new session learns which peers are online.
        const peerOnline = await b1.waitFor((f) => f.type === 'presence' && f.user === pa.userId, {
          timeoutMs: WAIT_MS,
        });
        assert.equal(peerOnline.online, true);

        // A second device is no news; dropping one of two is none either.
        b2 = await connect(server, transport, pb2);
        b1.drop();
        await withTimeout(b1.closed, WAIT_MS, 'b1 close');
        await sleep(QUIET_MS * 2);
        assert.deepEqual(
          ca
            .ofType('presence')
            .filter((f) => f.user === pb.userId)
            .map((f) => !!f.online),
          [true],
        );

        b2.drop();
        const offline = await ca.waitFor(
          (f) => f.type === 'presence' && f.user === pb.userId && !f.online,
          { timeoutMs: WAIT_MS },
        );
        assert.equal(offline.online ?? false, false);
        assert.equal(
          cc.ofType('presence').filter((f) => f.user === pb.userId).length,
          0,
          'a group member is not a presence peer',
        );
      } finally {
        await closeAll([ca, cc, ...(b1 ? [b1] : []), ...(b2 ? [b2] : [])]);
      }
    });

    it('gives a member who joins a room pushes and typing from then on', async () => {
      const [ra, rb] = await Promise.all([
        newUser(server.url, `${p}_room_a`, 'ra'),
        newUser(server.url, `${p}_room_b`, 'rb'),
      ]);
      const join = (user: User) =>
        http('POST', `${server.url}/v1/conversations`, {
          token: user.token,
          body: { kind: 'room', name: `${p}-lobby` },
        });
      const created = await join(ra);
      assert.equal(created.status, 201, created.text);
      const room: string = created.json.id;
      const ca = await connect(server, transport, ra);
      const cb = await connect(server, transport, rb);
      try {
        // The router learns the room's members (only ra) from this first push.
        await sendText(ca, room, 'room-1', 'before rb joins');
        await sleep(QUIET_MS);
        const joined = await join(rb);
        assert.equal(joined.status, 200, joined.text);
        await sendText(ca, room, 'room-2', 'after rb joined');
        await cb.waitFor(
          (f) =>
            f.type === 'message' && f.conversation === room && f.body?.text === 'after rb joined',
          { timeoutMs: 1500 },
        );
        cb.send({ type: 'typing', conversation: room });
        const typing = await ca.waitFor((f) => f.type === 'typing' && f.conversation === room, {
          timeoutMs: 1500,
        });
        assert.equal(typing.user, rb.userId);
        assert.equal(cb.ofType('error').length, 0, JSON.stringify(cb.ofType('error')));
      } finally {
        await closeAll([ca, cb]);
      }
    });
  });
}

describe('real-time delivery across codecs', () => {
  it('shows the same body on every codec, whoever sends', async () => {
    const [x, y, z] = await Promise.all([
      newUser(server.url, 'mix_json', 'mj'),
      newUser(server.url, 'mix_proto', 'mp'),
      newUser(server.url, 'mix_tcp', 'mt'),
    ]);
    const conversation = await group(server.url, x, 'mixed', [y, z]);
    const byTransport: [Transport, RtClient][] = [
      ['ws-json', await connect(server, 'ws-json', x)],
      ['ws-proto', await connect(server, 'ws-proto', y)],
      ['tcp', await connect(server, 'tcp', z)],
    ];
    try {
      // Free-form nesting lives in a custom payload: other kinds take no extra fields.
      const bodyFor = (t: Transport) => ({
        kind: 'custom',
        type: 'test.mixed',
        payload: {
          text: `from ${t}: héllo 👋 "quoted" \\ back\nslash ${'ü'.repeat(50)}`,
          list: [1, 'two', null, true, { deep: -3.5 }],
          empty: {},
        },
      });
      const sent = new Map<Transport, Frame>();
      for (const [t, client] of byTransport) {
        sent.set(
          t,
          await client.request({ type: 'send', ref: `mix-${t}`, conversation, body: bodyFor(t) }),
        );
      }
      for (const [t, client] of byTransport) {
        const others = byTransport.filter(([o]) => o !== t).map(([o]) => o);
        for (const o of others) {
          const s = sent.get(o)!;
          assert.equal(s.type, 'sent', JSON.stringify(s));
          const push = await client.waitFor(
            (f) => f.type === 'message' && f.conversation === conversation && f.seq === s.seq,
            { timeoutMs: WAIT_MS },
          );
          assert.deepEqual(push.body, bodyFor(o), `${o} → ${t}`);
          assert.equal(push.messageId, s.messageId);
        }
        const pulled = await client.request({ type: 'pull', conversation, after: 0 }, WAIT_MS);
        assert.deepEqual(
          (pulled.messages as any[]).map((m) => m.body),
          byTransport.map(([o]) => bodyFor(o)),
          `pull over ${t}`,
        );
      }
    } finally {
      await closeAll(byTransport.map(([, c]) => c));
    }
  });
});
