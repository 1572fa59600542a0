// Proves over real sockets that a client that was offline, or lost pushes to a dropped link, recovers every message exactly once and in seq order with one sync and paged pulls, and that sync's cursor and unread counts are right.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, register, startTestServer, type TestServer } from '../src/test-support/server.js';
import { RtClient, type Transport } from '../src/test-support/rt-client.js';
import { sleep, withTimeout } from '../src/test-support/wait.js';

const PASSWORD = 'correct horse battery';
const WAIT_MS = 5_000;
/** The server's sync cursor lies this far before the sync (SYNC_MARGIN_US in messaging-service). */
const CURSOR_MARGIN_MS = 5_000;
const PAGE = 100;
const PAGES_MAX = 50;

type Frame = Awaited<ReturnType<RtClient['request']>>;

interface User {
  readonly username: string;
  readonly userId: string;
  readonly token: string;
  readonly device: string;
}

/** What a sender was told for one message. */
interface Acked {
  readonly seq: number;
  readonly id: string;
  readonly text: string;
  readonly sender: string;
}

/** A number field as sent: Protobuf leaves out zeros, so an absent one is 0. */
const n = (v: unknown): number => (v === undefined ? 0 : (v as number));

async function newUser(url: string, username: string, device: string): Promise<User> {
  const u = await register(url, username, PASSWORD, device);
  return { username, userId: u.userId, token: u.token, device: u.device };
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

/** Sends one text message over REST; returns what the sender was acknowledged with. */
async function restSend(
  url: string,
  user: User,
  conversation: string,
  ref: string,
  text: string,
): Promise<Acked> {
  const res = await http('POST', `${url}/v1/conversations/${conversation}/messages`, {
    token: user.token,
    body: { ref, body: { kind: 'text', text } },
  });
  assert.equal(res.status, 201, res.text);
  return { seq: res.json.seq, id: res.json.id, text, sender: user.userId };
}

/** Runs the tasks at most `width` at a time. */
async function inBatches<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < tasks.length; i += width) {
    out.push(...(await Promise.all(tasks.slice(i, i + width).map((t) => t()))));
  }
  return out;
}

const opened = new Set<RtClient>();

async function connect(server: TestServer, transport: Transport, user: User): Promise<RtClient> {
  const client = await withTimeout(
    RtClient.connect(server, transport, user.token, user.device),
    WAIT_MS,
    `connect ${user.username} over ${transport}`,
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

async function sync(client: RtClient, cursor?: string): Promise<Frame> {
  const synced = await client.request(
    { type: 'sync', ...(cursor !== undefined ? { cursor } : {}) },
    WAIT_MS,
  );
  assert.equal(synced.type, 'synced', JSON.stringify(synced));
  assert.equal(typeof synced.cursor, 'string');
  synced.conversations ??= []; // Protobuf leaves out an empty list
  return synced;
}

function stateOf(synced: Frame, conversation: string): any {
  return (synced.conversations as any[]).find((c) => c.id === conversation);
}

/** Pulls every message after `after`, page by page, as a client catching up does. */
async function pullAll(client: RtClient, conversation: string, after: number): Promise<any[]> {
  const messages: any[] = [];
  for (let page = 0; page < PAGES_MAX; page++) {
    const pulled = await client.request(
      { type: 'pull', conversation, after, limit: PAGE },
      WAIT_MS,
    );
    assert.equal(pulled.type, 'pulled', JSON.stringify(pulled));
    assert.equal(pulled.conversation, conversation);
    const got = (pulled.messages ?? []) as any[];
    assert.ok(got.length <= PAGE, `a page holds at most ${PAGE}`);
    messages.push(...got);
    if (!pulled.hasMore) return messages;
    assert.ok(got.length > 0, 'hasMore with an empty page');
    after = got[got.length - 1].seq;
  }
  assert.fail(`more than ${PAGES_MAX} pages`);
}

/** Asserts the messages are exactly seqs 1..acked.length, once each, as acknowledged. */
function assertAll(messages: any[], acked: Acked[], what: string): void {
  const expected = [...acked].sort((a, b) => a.seq - b.seq);
  assert.deepEqual(
    messages.map((m) => m.seq),
    expected.map((a) => a.seq),
    `${what}: every seq once, in order`,
  );
  assert.deepEqual(
    expected.map((a) => a.seq),
    Array.from({ length: expected.length }, (_, i) => i + 1),
    `${what}: the acknowledged seqs are dense`,
  );
  messages.forEach((m, i) => {
    const a = expected[i]!;
    assert.equal(m.messageId, a.id, `${what} seq ${a.seq} id`);
    assert.equal(m.sender, a.sender, `${what} seq ${a.seq} sender`);
    assert.deepEqual(m.body, { kind: 'text', text: a.text }, `${what} seq ${a.seq} body`);
  });
}

let server: TestServer;

before(async () => {
  // The peer sends 500 messages over REST while the client is away: above the default send
  // budget's burst (100).
  server = await startTestServer({ PARLEY_TCP_PORT: '0', PARLEY_SEND_BURST_MAX: '10000' });
});

after(async () => {
  await closeAll([...opened]);
  await server?.close();
});

const RECONNECT_TRANSPORTS: readonly Transport[] = ['ws-json', 'ws-proto', 'tcp'];

for (const transport of RECONNECT_TRANSPORTS) {
  describe(`catching up after a reconnect over ${transport}`, () => {
    const p = 'rc' + transport.replace('-', '');

    it('recovers 500 messages in 5 conversations with one sync and paged pulls', async () => {
      const bob = await newUser(server.url, `${p}_bob`, 'bob-phone');
      const others = await Promise.all(
        [0, 1, 2, 3].map((i) => newUser(server.url, `${p}_friend${i}`, `f${i}`)),
      );
      const directs = await Promise.all(others.map((o) => direct(server.url, o, bob.username)));
      const team = await group(server.url, others[0]!, `${p} team`, [bob, ...others.slice(1)]);
      const conversations = [...directs, team];

      let b1 = await connect(server, transport, bob);
      const senders: RtClient[] = [];
      try {
        const first = await sync(b1);
        assert.equal(first.conversations.length, 5);
        const cursor = first.cursor as string;
        b1.drop();
        await withTimeout(b1.closed, WAIT_MS, 'bob goes offline');

        // 500 messages while bob is away: 150 + 120 + 80 + 50 over REST in the direct chats,
        // and 4 × 25 real-time sends into the group, all concurrently.
        const counts = [150, 120, 80, 50];
        const acked = new Map<string, Acked[]>(conversations.map((c) => [c, []]));
        const restTasks = others.flatMap((o, k) =>
          Array.from({ length: counts[k]! }, (_, i) => () => {
            const text = `${o.username} says ${i}`;
            return restSend(server.url, o, directs[k]!, `d-${i}`, text).then((a) =>
              acked.get(directs[k]!)!.push(a),
            );
          }),
        );
        for (const o of others) senders.push(await connect(server, 'ws-json', o));
        const rtTasks = senders.flatMap((s, k) =>
          Array.from({ length: 25 }, (_, i) => async () => {
            const text = `${others[k]!.username} tells the team ${i}`;
            const sent = await s.request(
              { type: 'send', ref: `g-${i}`, conversation: team, body: { kind: 'text', text } },
              WAIT_MS,
            );
            assert.equal(sent.type, 'sent', JSON.stringify(sent));
            acked
              .get(team)!
              .push({ seq: sent.seq, id: sent.messageId, text, sender: others[k]!.userId });
          }),
        );
        await Promise.all([inBatches(restTasks, 50), inBatches(rtTasks, 50)]);
        const total = [...acked.values()].reduce((sum, list) => sum + list.length, 0);
        assert.equal(total, 500);

        // Back online: one sync with the old cursor names exactly the 5 conversations.
        b1 = await connect(server, transport, bob);
        const synced = await sync(b1, cursor);
        assert.deepEqual(
          (synced.conversations as any[]).map((c) => c.id).sort(),
          [...conversations].sort(),
        );
        for (const conversation of conversations) {
          const state = stateOf(synced, conversation);
          const count = acked.get(conversation)!.length;
          assert.equal(state.lastSeq, count, `lastSeq of ${conversation}`);
          assert.equal(n(state.readSeq), 0);
          assert.equal(n(state.deliveredSeq), 0);
          assert.equal(state.unread, count, `unread of ${conversation}`);
          assert.equal(state.kind, conversation === team ? 'group' : 'direct');
        }
        assert.equal(stateOf(synced, team).title, `${p} team`);

        for (const conversation of conversations) {
          const messages = await pullAll(b1, conversation, 0);
          assertAll(messages, acked.get(conversation)!, conversation);
        }

        // Read everything; the receipts come back to bob's own link once each read is stored.
        const from = b1.frames.length;
        for (const conversation of conversations) {
          b1.send({ type: 'read', conversation, seq: acked.get(conversation)!.length });
        }
        await Promise.all(
          conversations.map((conversation) =>
            b1.waitFor(
              (f) =>
                f.type === 'receipt' &&
                f.conversation === conversation &&
                f.user === bob.userId &&
                f.readSeq === acked.get(conversation)!.length,
              { timeoutMs: WAIT_MS, from },
            ),
          ),
        );
        const again = await sync(b1, synced.cursor);
        for (const conversation of conversations) {
          const state = stateOf(again, conversation);
          assert.ok(state, `a read conversation is in the next sync: ${conversation}`);
          assert.equal(n(state.unread), 0);
          assert.equal(state.readSeq, acked.get(conversation)!.length);
          assert.equal(state.deliveredSeq, acked.get(conversation)!.length);
        }
      } finally {
        await closeAll([b1, ...senders]);
      }
    });

    it('closes the gap left by a link dropped in the middle of a burst', async () => {
      const [alice, bob] = await Promise.all([
        newUser(server.url, `${p}_lossy_a`, 'la'),
        newUser(server.url, `${p}_lossy_b`, 'lb'),
      ]);
      const conversation = await direct(server.url, alice, bob.username);
      const a1 = await connect(server, 'ws-json', alice);
      let b1 = await connect(server, transport, bob);
      try {
        const cursor = (await sync(b1)).cursor as string;
        const acked: Acked[] = [];
        const send = async (i: number) => {
          const text = `lossy ${i}`;
          const sent = await a1.request(
            { type: 'send', ref: `l-${i}`, conversation, body: { kind: 'text', text } },
            WAIT_MS,
          );
          assert.equal(sent.type, 'sent', JSON.stringify(sent));
          acked.push({ seq: sent.seq, id: sent.messageId, text, sender: alice.userId });
        };

        // A burst of 40; bob's link dies, without a close handshake, after the 10th push.
        const burst = Promise.all(Array.from({ length: 40 }, (_, i) => send(i)));
        await b1.waitForCount('message', 10, WAIT_MS);
        b1.drop();
        await burst;
        // More while the server may still think bob is online, then while he surely is not.
        await Promise.all(Array.from({ length: 10 }, (_, i) => send(40 + i)));
        await withTimeout(b1.closed, WAIT_MS, 'bob drops');
        await sleep(100);
        await Promise.all(Array.from({ length: 10 }, (_, i) => send(50 + i)));

        const pushed = b1.ofType('message').filter((f) => f.conversation === conversation);
        const seen = pushed.map((f) => f.seq as number);
        assert.ok(seen.length >= 10 && seen.length < 60, `pushes before the drop: ${seen.length}`);
        assert.deepEqual(
          seen,
          Array.from({ length: seen.length }, (_, i) => i + 1),
          'pushes on one link come in seq order without gaps',
        );
        const lastSeen = seen[seen.length - 1]!;

        b1 = await connect(server, transport, bob);
        const synced = await sync(b1, cursor);
        const state = stateOf(synced, conversation);
        assert.ok(state, 'the conversation with missed messages is in the sync');
        assert.equal(state.lastSeq, 60);
        const pulled = await pullAll(b1, conversation, lastSeen);

        // The client's view: pushes and pulls, deduped by (conversation, seq).
        const bySeq = new Map<number, any[]>();
        for (const m of [...pushed, ...pulled]) {
          const list = bySeq.get(m.seq) ?? [];
          list.push(m);
          bySeq.set(m.seq, list);
        }
        assert.deepEqual(
          [...bySeq.keys()].sort((x, y) => x - y),
          Array.from({ length: 60 }, (_, i) => i + 1),
          'no gap',
        );
        for (const [seq, list] of bySeq) assert.equal(list.length, 1, `seq ${seq} seen once`);
        assertAll(
          [...bySeq.values()].map((l) => l[0]).sort((x, y) => x.seq - y.seq),
          acked,
          'pushed + pulled',
        );
      } finally {
        await closeAll([a1, b1]);
      }
    });
  });
}

describe('the sync cursor', () => {
  it('always returns a conversation changed after the cursor, and not an old quiet one', async () => {
    const [carol, dan, erin] = await Promise.all([
      newUser(server.url, 'cursor_carol', 'cc'),
      newUser(server.url, 'cursor_dan', 'cd'),
      newUser(server.url, 'cursor_erin', 'ce'),
    ]);
    const quiet = await direct(server.url, dan, carol.username);
    const busy = await direct(server.url, erin, carol.username);
    await restSend(server.url, dan, quiet, 'q-1', 'long ago');
    await restSend(server.url, erin, busy, 'b-1', 'long ago too');
    // Let both conversations age past the cursor's safety margin.
    await sleep(CURSOR_MARGIN_MS + 500);

    const c1 = await connect(server, 'ws-json', carol);
    try {
      const first = await sync(c1);
      assert.ok(stateOf(first, quiet) && stateOf(first, busy), 'no cursor: everything');

      const fresh = await restSend(server.url, erin, busy, 'b-2', 'just now');
      const second = await sync(c1, first.cursor);
      const state = stateOf(second, busy);
      assert.ok(state, 'activity after the cursor is always included');
      assert.equal(state.lastSeq, fresh.seq);
      assert.equal(state.unread, 2);
      assert.equal(stateOf(second, quiet), undefined, 'an old quiet conversation is left out');

      // Right after, without activity: busy may come back (margin), quiet may not.
      const third = await sync(c1, second.cursor);
      assert.equal(stateOf(third, quiet), undefined);

      // Reading moves carol's own watermark: that too is a change a later sync reports.
      c1.send({ type: 'read', conversation: quiet, seq: 1 });
      await c1.waitFor((f) => f.type === 'receipt' && f.conversation === quiet && f.readSeq === 1, {
        timeoutMs: WAIT_MS,
      });
      const fourth = await sync(c1, third.cursor);
      assert.equal(stateOf(fourth, quiet)?.unread, 0);
    } finally {
      await closeAll([c1]);
    }
  });

  it('refuses an invalid cursor with invalid_cursor and keeps the link', async () => {
    const user = await newUser(server.url, 'cursor_bad', 'cb');
    const c1 = await connect(server, 'ws-json', user);
    const c2 = await connect(server, 'tcp', { ...user, ...(await loginAgain(user, 'cb2')) });
    try {
      for (const client of [c1, c2]) {
        for (const cursor of ['garbage', 't', 'x123', 't-5', 'tzzzzzzzzzzzzzzzzzzz']) {
          const reply = await client.request({ type: 'sync', cursor }, WAIT_MS);
          assert.equal(reply.type, 'error', `${cursor}: ${JSON.stringify(reply)}`);
          assert.equal(reply.code, 'invalid_cursor', cursor);
          assert.match(String(reply.id), /^t\d+$/);
        }
        const pong = await client.request({ type: 'ping' }, WAIT_MS);
        assert.equal(pong.type, 'pong');
        // A valid cursor still works afterwards.
        const ok = await sync(client, (await sync(client)).cursor);
        assert.equal(ok.type, 'synced');
      }
    } finally {
      await closeAll([c1, c2]);
    }
  });
});

async function loginAgain(user: User, device: string): Promise<{ token: string; device: string }> {
  const res = await http('POST', `${server.url}/v1/auth/login`, {
    body: { username: user.username, password: PASSWORD, device },
  });
  assert.equal(res.status, 200, res.text);
  return { token: res.json.token, device };
}
