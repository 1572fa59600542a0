// Proves that 3 real node processes on one PostgreSQL and one Redis act as one server: 1:1 and 200-member group messages reach every online device on every node exactly once and in order, with one bus message per target node (or one broadcast for big groups), presence follows a device that moves between nodes, a profile change reaches the users who show it on every node, the login throttle counts failures on every node together, guesses sent at once to every node included (and never stops the owner's known address or device key), a push notification goes out only while a user is offline on every node, and every stored message and recall lands in the `parley:events` stream.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RtClient, type Transport } from '../src/test-support/rt-client.js';
import { http } from '../src/test-support/server.js';
import { startPushGateway, type PushGateway } from '../src/test-support/push-gateway.js';
import {
  clusterSkip,
  connect,
  createGroup,
  eventually,
  loginDevice,
  newUser,
  newUsers,
  num,
  openDirect,
  PASSWORD,
  sleep,
  startCluster,
  type TestCluster,
  type User,
  withTimeout,
} from './cluster-harness.js';

const WAIT_MS = 10_000;
const GROUP_SIZE = 200;
/** Members of the big group with a live link (the rest stay offline). */
const GROUP_ONLINE = 180;
const CONNECT_CONCURRENCY = 20;
const REGISTER_CONCURRENCY = 8;

type Frame = Awaited<ReturnType<RtClient['request']>>;

/** Links whose sends were given seqs out of send order (see the ordering test). */
const orderBreaks: string[] = [];

interface BusRecord {
  readonly channel: string;
  readonly from: string | null;
  readonly msg: { kind: string; frame?: Frame; users?: string[] };
}

/** Listens, beside the nodes, to every node channel and the broadcast channel. */
async function spyOnBus(url: string): Promise<{ records: BusRecord[]; close(): Promise<void> }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const records: BusRecord[] = [];
  // One record per bus message: an envelope carries one (`msg`) or a turn's worth (`msgs`).
  const keep = (channel: string, data: string): void => {
    const envelope = JSON.parse(data) as {
      from: string | null;
      msg?: BusRecord['msg'];
      msgs?: BusRecord['msg'][];
    };
    for (const msg of envelope.msgs ?? [envelope.msg!]) {
      records.push({ channel, from: envelope.from, msg });
    }
  };
  redis.on('pmessage', (_pattern: string, channel: string, data: string) => keep(channel, data));
  redis.on('message', (channel: string, data: string) => keep(channel, data));
  await redis.connect();
  await redis.psubscribe('parley:node:*');
  await redis.subscribe('parley:broadcast');
  return {
    records,
    close: async () => {
      redis.disconnect();
      await sleep(0);
    },
  };
}

/** The `message` pushes a link received for one conversation, in arrival order. */
function pushes(client: RtClient, conversation: string): Frame[] {
  return client.frames.filter((f) => f.type === 'message' && f.conversation === conversation);
}

/**
 * Checks that a device got, for one conversation, every message it did not send itself exactly
 * once by push, each sender's messages in seq order, and that the payload matches what was sent.
 */
function assertReceivedOnce(
  label: string,
  client: RtClient,
  conversation: string,
  expected: ReadonlyMap<
    number,
    { messageId: string; sender: string; device: string; text: string }
  >,
  own: { user: string; device: string },
): void {
  const got = pushes(client, conversation);
  const seqs = got.map((f) => num(f.seq));
  const want = [...expected]
    .filter(([, m]) => !(m.sender === own.user && m.device === own.device))
    .map(([seq]) => seq)
    .sort((a, b) => a - b);
  assert.deepEqual(
    [...seqs].sort((a, b) => a - b),
    want,
    `${label}: every message exactly once`,
  );
  const lastBySender = new Map<string, number>();
  for (const f of got) {
    const m = expected.get(num(f.seq));
    assert.ok(m, `${label}: unknown seq ${num(f.seq)}`);
    assert.equal(f.messageId, m.messageId, `${label}: messageId of seq ${num(f.seq)}`);
    assert.equal(f.sender, m.sender);
    assert.equal(f.device, m.device);
    assert.equal(f.body?.text, m.text);
    const key = `${m.sender}/${m.device}`;
    const last = lastBySender.get(key) ?? 0;
    assert.ok(num(f.seq) > last, `${label}: seq ${num(f.seq)} after ${last} from ${key}`);
    lastBySender.set(key, num(f.seq));
  }
}

/** Sends `count` texts over one link at once; returns what each `sent` said, by seq. */
async function sendAll(
  client: RtClient,
  user: User,
  conversation: string,
  count: number,
  tag: string,
) {
  const answers = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.request(
        {
          type: 'send',
          ref: `${tag}-${i}`,
          conversation,
          body: { kind: 'text', text: `${tag} ${i}` },
        },
        WAIT_MS,
      ),
    ),
  );
  const sent = new Map<
    number,
    { messageId: string; sender: string; device: string; text: string }
  >();
  answers.forEach((a, i) => {
    assert.equal(a.type, 'sent', JSON.stringify(a));
    assert.equal(a.ref, `${tag}-${i}`);
    assert.equal(a.conversation, conversation);
    assert.ok(num(a.seq) > 0, 'sent carries the seq');
    assert.ok(!a.duplicate);
    sent.set(num(a.seq), {
      messageId: a.messageId,
      sender: user.userId,
      device: user.device,
      text: `${tag} ${i}`,
    });
  });
  // One link's sends are stored in the order they arrived: checked in its own test below, so a
  // break there does not hide what the other tests prove.
  const seqs = answers.map((a) => num(a.seq));
  if (seqs.some((seq, i) => i > 0 && seq < seqs[i - 1]!))
    orderBreaks.push(`${tag}: ${seqs.join(',')}`);
  return sent;
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, i: number) => Promise<R>,
) {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!, i);
      }
    }),
  );
  return out;
}

describe('a cluster of 3 node processes', { skip: clusterSkip() }, () => {
  let cluster: TestCluster;
  let redis: Redis;
  let gateway: PushGateway;
  const links: RtClient[] = [];
  const link = async (node: number, user: User, transport: Transport = 'ws-json') => {
    const client = await connect(cluster.nodes[node]!, user, transport);
    links.push(client);
    return client;
  };
  const url = (node: number): string => cluster.nodes[node]!.url;
  /** The (device, node) pairs presence lists for a user. */
  const presenceOf = async (userId: string): Promise<string[]> => {
    const hash = await redis.hgetall(`parley:presence:${userId}`);
    return Object.keys(hash)
      .map((field) => (JSON.parse(field) as string[]).join('@'))
      .sort();
  };

  before(async () => {
    // Node 1 pushes big groups per node (one bus message per node with members online); nodes 2
    // and 3 broadcast them (the default for 100 members or more): both paths in one run.
    gateway = await startPushGateway();
    cluster = await startCluster({
      nodes: 3,
      tcp: true,
      env: {
        PARLEY_PUSH_GATEWAYS: `${gateway.url}/`,
        PARLEY_PUSH_REFRESH_MS: '300',
        // The tests are the proxy: X-Forwarded-For gives each login an address of its own.
        PARLEY_TRUST_PROXY: 'loopback',
      },
      nodeEnv: [{ PARLEY_BROADCAST_MEMBERS_MIN: '100000' }, {}, {}],
    });
    redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
  });

  after(async () => {
    for (const l of links) l.drop();
    redis?.disconnect();
    await cluster?.close();
    gateway?.close();
  });

  it('delivers 1:1 messages to every device of both users on every node exactly once', async () => {
    const alice = await newUser(url(0), 'alice', 'phone');
    const aliceLaptop = await loginDevice(url(2), alice, 'laptop');
    const bob = await newUser(url(1), 'bob', 'phone');
    const conversation = await openDirect(url(0), alice, 'bob');

    const aPhone = await link(0, alice);
    const aLaptop = await link(2, aliceLaptop, 'tcp');
    const bPhone = await link(1, bob, 'ws-proto');
    await eventually(
      async () =>
        (await presenceOf(alice.userId)).join() === 'laptop@node3,phone@node1' &&
        (await presenceOf(bob.userId)).join() === 'phone@node2',
      WAIT_MS,
      'presence lists every link',
    );

    const spy = await spyOnBus(cluster.redis.url);
    try {
      const sent = await Promise.all([
        sendAll(aPhone, alice, conversation, 10, 'a-phone'),
        sendAll(bPhone, bob, conversation, 10, 'b-phone'),
        sendAll(aLaptop, aliceLaptop, conversation, 5, 'a-laptop'),
      ]);
      const all = new Map(sent.flatMap((m) => [...m]));
      assert.deepEqual(
        [...all.keys()].sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i + 1),
        'seqs are dense and unique across nodes',
      );
      const devices = [
        { label: 'alice phone @node1', client: aPhone, user: alice },
        { label: 'alice laptop @node3', client: aLaptop, user: aliceLaptop },
        { label: 'bob phone @node2', client: bPhone, user: bob },
      ];
      for (const d of devices) {
        const mine = [...all.values()].filter(
          (m) => m.sender === d.user.userId && m.device === d.user.device,
        ).length;
        await d.client.waitFor(() => pushes(d.client, conversation).length >= 25 - mine, {
          timeoutMs: WAIT_MS,
        });
      }
      await sleep(300); // anything pushed twice would arrive by now
      for (const d of devices) {
        assertReceivedOnce(d.label, d.client, conversation, all, {
          user: d.user.userId,
          device: d.user.device,
        });
      }

      // One bus message per other node with a recipient, per message; never a broadcast.
      const origin = new Map<number, string>();
      for (const [i, m] of sent.entries()) {
        for (const seq of m.keys()) origin.set(seq, ['node1', 'node2', 'node3'][i]!);
      }
      const ofThis = spy.records.filter(
        (r) => r.msg.frame?.type === 'message' && r.msg.frame.conversation === conversation,
      );
      assert.equal(
        ofThis.filter((r) => r.channel === 'parley:broadcast').length,
        0,
        'a 1:1 message is never broadcast',
      );
      for (const [seq, from] of origin) {
        const channels = ofThis
          .filter((r) => num(r.msg.frame?.seq) === seq)
          .map((r) => r.channel)
          .sort();
        const others = ['node1', 'node2', 'node3'].filter((n) => n !== from);
        assert.deepEqual(
          channels,
          others.map((n) => `parley:node:${n}`),
          `seq ${seq} from ${from}: one bus message per other node`,
        );
      }
    } finally {
      await spy.close();
    }
  });

  it(`delivers a ${GROUP_SIZE}-member group's messages to every online member on every node once`, async () => {
    const urls = [url(0), url(1), url(2)];
    const names = Array.from({ length: GROUP_SIZE }, (_, i) => `member${i}`);
    const users = await newUsers(urls, names, REGISTER_CONCURRENCY);
    const owner = users[0]!;
    const conversation = await createGroup(url(1), owner, 'big group', users.slice(1));

    // GROUP_ONLINE members online, spread over the nodes (member i on node i % 3), on all three
    // transports; the others stay offline.
    const transports: Transport[] = ['ws-json', 'ws-json', 'ws-proto', 'tcp'];
    const online = users.slice(0, GROUP_ONLINE);
    const clients = await pool(online, CONNECT_CONCURRENCY, (u, i) =>
      link(i % 3, u, transports[i % transports.length]),
    );
    // Presence must list them before per-node pushes can find them.
    await eventually(
      async () => {
        const counts = await Promise.all(
          online.map((u) => redis.exists(`parley:presence:${u.userId}`)),
        );
        return counts.every((c) => c === 1);
      },
      WAIT_MS,
      'presence lists every online member',
    );

    const spy = await spyOnBus(cluster.redis.url);
    try {
      // Two senders on each node, sending at once.
      const senders = [0, 3, 1, 4, 2, 5];
      const PER_SENDER = 4;
      const sent = await Promise.all(
        senders.map((i) => sendAll(clients[i]!, online[i]!, conversation, PER_SENDER, `g${i}`)),
      );
      const all = new Map(sent.flatMap((m) => [...m]));
      const total = senders.length * PER_SENDER;
      assert.deepEqual(
        [...all.keys()].sort((a, b) => a - b),
        Array.from({ length: total }, (_, i) => i + 1),
      );
      await Promise.all(
        clients.map((c, i) =>
          c.waitFor(
            () => pushes(c, conversation).length >= total - (senders.includes(i) ? PER_SENDER : 0),
            { timeoutMs: WAIT_MS * 2 },
          ),
        ),
      );
      await sleep(300);
      clients.forEach((c, i) =>
        assertReceivedOnce(
          `member${i} @node${(i % 3) + 1} (${c.transport})`,
          c,
          conversation,
          all,
          {
            user: online[i]!.userId,
            device: online[i]!.device,
          },
        ),
      );

      // The bus: node 1 (per-node path) sends one push per other node per message; nodes 2 and 3
      // (broadcast path) send one broadcast per message, whatever the member count.
      const ofThis = spy.records.filter(
        (r) => r.msg.frame?.type === 'message' && r.msg.frame.conversation === conversation,
      );
      for (const [k, i] of senders.entries()) {
        const from = `node${(i % 3) + 1}`;
        for (const seq of sent[k]!.keys()) {
          const records = ofThis.filter((r) => num(r.msg.frame?.seq) === seq);
          if (from === 'node1') {
            assert.deepEqual(
              records.map((r) => `${r.msg.kind}@${r.channel}`).sort(),
              ['push@parley:node:node2', 'push@parley:node:node3'],
              `seq ${seq} from node1: one push per node`,
            );
          } else {
            assert.deepEqual(
              records.map((r) => `${r.msg.kind}@${r.channel}`),
              ['conversation@parley:broadcast'],
              `seq ${seq} from ${from}: one broadcast`,
            );
          }
        }
      }
    } finally {
      await spy.close();
      for (const c of clients) c.drop();
    }
  });

  it('moves presence with a device that reconnects to another node', async () => {
    const pat = await newUser(url(0), 'pat');
    const ray = await newUser(url(1), 'ray', 'tablet');
    const conversation = await openDirect(url(0), pat, 'ray');
    const presenceFrames = (c: RtClient) =>
      c.frames.filter((f) => f.type === 'presence' && f.user === ray.userId);

    const patLink = await link(1, pat);
    const rayOn1 = await link(0, ray);
    await patLink.waitFor(
      (f) => f.type === 'presence' && f.user === ray.userId && f.online === true,
      {
        timeoutMs: WAIT_MS,
      },
    );
    assert.deepEqual(await presenceOf(ray.userId), ['tablet@node1']);

    // Ray's device moves: close on node 1, connect on node 3.
    rayOn1.drop();
    await rayOn1.closed;
    await eventually(
      async () => (await presenceOf(ray.userId)).length === 0,
      WAIT_MS,
      'node 1 entry removed',
    );
    const rayOn3 = await link(2, ray);
    await eventually(
      async () => (await presenceOf(ray.userId)).join() === 'tablet@node3',
      WAIT_MS,
      'presence lists the device on node 3',
    );
    await patLink.waitFor(
      () => {
        const last = presenceFrames(patLink).at(-1);
        return last?.online === true && presenceFrames(patLink).length >= 2;
      },
      { timeoutMs: WAIT_MS },
    );
    // Pat saw ray go offline, then online again (or never offline, had the move been quicker).
    const states = presenceFrames(patLink).map((f) => f.online === true);
    assert.equal(states[0], true);
    assert.equal(states.at(-1), true);

    const toRay = await patLink.request({
      type: 'send',
      ref: 'after-move',
      conversation,
      body: { kind: 'text', text: 'found you' },
    });
    assert.equal(toRay.type, 'sent');
    const got = await rayOn3.waitFor(
      (f) => f.type === 'message' && f.conversation === conversation,
      {
        timeoutMs: WAIT_MS,
      },
    );
    assert.equal(num(got.seq), num(toRay.seq));
    assert.equal(got.body.text, 'found you');

    // The same device says hello on node 1 while still linked on node 3: node 3's link is kicked.
    const seen = presenceFrames(patLink).length;
    const rayBackOn1 = await link(0, ray);
    const code = await withTimeout(rayOn3.closed, WAIT_MS, 'the kick of the older link');
    assert.equal(code, 4409, 'the older link is closed with 4409');
    assert.ok(
      rayOn3.frames.some((f) => f.type === 'kicked'),
      'a kicked frame came first',
    );
    await eventually(
      async () => (await presenceOf(ray.userId)).join() === 'tablet@node1',
      WAIT_MS,
      'presence lists only the new link',
    );
    await sleep(300);
    assert.deepEqual(
      presenceFrames(patLink)
        .slice(seen)
        .filter((f) => f.online !== true),
      [],
      'a kick by a newer link of the same device does not show the user offline',
    );
    const again = await patLink.request({
      type: 'send',
      ref: 'after-kick',
      conversation,
      body: { kind: 'text', text: 'still there?' },
    });
    const got2 = await rayBackOn1.waitFor(
      (f) => f.type === 'message' && num(f.seq) === num(again.seq),
      { timeoutMs: WAIT_MS },
    );
    assert.equal(got2.body.text, 'still there?');
  });

  it('pushes a profile change to the users who show it, on every node', async () => {
    const ivy = await newUser(url(0), 'ivy');
    const ivyLaptop = await loginDevice(url(0), ivy, 'laptop');
    const jon = await newUser(url(1), 'jon');
    const kim = await newUser(url(2), 'kim');
    await openDirect(url(0), ivy, 'jon');
    const jonOn3 = await link(2, jon, 'tcp');
    const ivyOn2 = await link(1, ivyLaptop, 'ws-proto');
    const kimOn1 = await link(0, kim);

    const res = await http('PATCH', `${url(0)}/v1/me/profile`, {
      token: ivy.token,
      body: { displayName: 'Ivy on node 1' },
    });
    assert.equal(res.status, 200, res.text);
    for (const client of [jonOn3, ivyOn2]) {
      const frame = await client.waitFor((f) => f.type === 'profile' && f.user === ivy.userId, {
        timeoutMs: WAIT_MS,
      });
      assert.equal(frame.displayName, 'Ivy on node 1');
      assert.equal(frame.username, 'ivy');
    }
    // Kim shares nothing with ivy: her own change's push comes, ivy's never did.
    const own = await http('PATCH', `${url(0)}/v1/me/profile`, {
      token: kim.token,
      body: { bio: 'kim' },
    });
    assert.equal(own.status, 200, own.text);
    await kimOn1.waitFor((f) => f.type === 'profile' && f.user === kim.userId, {
      timeoutMs: WAIT_MS,
    });
    assert.deepEqual(
      kimOn1.frames.filter((f) => f.type === 'profile' && f.user === ivy.userId),
      [],
    );
  });

  it('shares the login throttle between nodes: failures on one count on the others, and none stop a known source', async () => {
    const username = 'throttled-everywhere';
    const login = (node: number, from: string, password: string, extra = {}) =>
      http('POST', `${url(node)}/v1/auth/login`, {
        body: { username, password, ...extra },
        headers: { 'x-forwarded-for': from },
      });
    const reg = await http('POST', `${url(0)}/v1/auth/register`, {
      body: { username, password: PASSWORD, device: 'phone' },
      headers: { 'x-forwarded-for': '198.51.100.50' },
    });
    assert.equal(reg.status, 201, reg.text);
    // The username's burst (PARLEY_LOGIN_USER_FAILURES_MAX, 10 by default) spread over the three
    // nodes and ten addresses.
    for (let i = 0; i < 10; i++) {
      assert.equal((await login(i % 3, `203.0.113.${i}`, 'not the password')).status, 401);
    }
    // Had each node kept its own budget, each would still allow six more guesses.
    for (const node of [0, 1, 2]) {
      const refused = await login(node, `192.0.2.${node}`, PASSWORD);
      assert.equal(refused.status, 429, refused.text);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    }
    // The address it registered from, and its device key from a new address, on other nodes.
    const home = await login(1, '198.51.100.50', PASSWORD);
    assert.equal(home.status, 200, home.text);
    const deviceKey = (reg.json as { deviceKey: string }).deviceKey;
    const keyed = await login(2, '192.0.2.9', PASSWORD, { device: 'phone', deviceKey });
    assert.equal(keyed.status, 200, keyed.text);
  });

  it('gives guesses sent at once to all three nodes no more than one burst, while the owner gets in', async () => {
    const username = 'flooded-everywhere';
    const login = (node: number, from: string, password: string) =>
      http('POST', `${url(node)}/v1/auth/login`, {
        body: { username, password },
        headers: { 'x-forwarded-for': from },
      });
    const reg = await http('POST', `${url(0)}/v1/auth/register`, {
      body: { username, password: PASSWORD },
      headers: { 'x-forwarded-for': '198.51.100.60' },
    });
    assert.equal(reg.status, 201, reg.text);
    const flood = (from: string) =>
      Promise.all(Array.from({ length: 30 }, (_, i) => login(i % 3, from, `guess ${i}!!`)));
    const statusesOf = (replies: { status: number }[]) => replies.map((r) => r.status);
    // 30 at once from one address: its (username, address) and the username's bursts are 10 (the
    // defaults).
    const first = statusesOf(await flood('203.0.113.77'));
    assert.equal(first.filter((s) => s === 401).length, 10, first.join(' '));
    assert.equal(first.filter((s) => s === 429).length, 20, first.join(' '));
    // The next flood, from elsewhere, is all refused, while the owner's known address gets in.
    const [owner, next] = await Promise.all([
      login(1, '198.51.100.60', PASSWORD),
      flood('203.0.113.78'),
    ]);
    assert.equal(owner.status, 200, owner.text);
    assert.deepEqual(statusesOf(next), Array<number>(30).fill(429));
  });

  it('sends a push notification when the member is offline on every node, not while it is online on any', async () => {
    const sender = await newUser(url(0), 'push-sender');
    const phone = await newUser(url(1), 'push-phone');
    const set = await http('PUT', `${url(1)}/v1/me/pusher`, {
      token: phone.token,
      body: { url: `${gateway.url}/notify`, token: 'tok-phone' },
    });
    assert.equal(set.status, 200, set.text);
    const chat = await openDirect(url(0), sender, phone.username);
    const send = async (text: string): Promise<number> => {
      const res = await http('POST', `${url(0)}/v1/conversations/${chat}/messages`, {
        token: sender.token,
        body: { ref: `push-${text}`, body: { kind: 'text', text } },
      });
      assert.equal(res.status, 201, res.text);
      return res.json.seq as number;
    };
    const pushedSeqs = () =>
      gateway.received
        .filter((r) => r.device.user === phone.userId && r.notification.conversation === chat)
        .map((r) => r.notification.seq);

    // Offline: node 1 pushes, once it learned of the pusher set on node 2 (PUSH_REFRESH_MS).
    await eventually(
      async () => {
        if (pushedSeqs().length === 0) await send(`wake up ${Date.now()}`);
        return pushedSeqs().length > 0;
      },
      WAIT_MS,
      'a push to the offline phone',
      500,
    );
    const [r] = gateway.received.filter((x) => x.device.user === phone.userId);
    assert.deepEqual(r?.device, { user: phone.userId, device: phone.device, token: 'tok-phone' });

    // Online on node 3, the message stored on node 1: presence (Redis) says so, no push.
    const online = await link(2, phone);
    await eventually(async () => (await presenceOf(phone.userId)).length === 1, WAIT_MS, 'online');
    const whileOnline = await send('are you there');
    await online.waitFor((f) => f.type === 'message' && f.seq === whileOnline);
    online.drop();
    await eventually(async () => (await presenceOf(phone.userId)).length === 0, WAIT_MS, 'gone');
    const offlineAgain = await send('and now?');
    await eventually(
      () => pushedSeqs().includes(offlineAgain),
      WAIT_MS,
      'a push once offline again',
    );
    assert.ok(!pushedSeqs().includes(whileOnline), 'none while it was online');
  });

  it('stores the sends of one link in the order they arrive', async () => {
    const ann = await newUser(url(0), 'ann');
    const ben = await newUser(url(1), 'ben');
    const direct = await openDirect(url(0), ann, 'ben');
    const group = await createGroup(url(1), ann, 'order', [ben]);
    const annLink = await link(2, ann);
    await sendAll(annLink, ann, direct, 30, 'order-direct');
    await sendAll(annLink, ann, group, 30, 'order-group');
    assert.deepEqual(orderBreaks, [], 'every link saw its seqs in send order');
  });

  it('appends every stored message and each recall to the parley:events stream', async () => {
    const eve = await newUser(url(2), 'eve');
    const fay = await newUser(url(0), 'fay');
    const conversation = await openDirect(url(1), eve, 'fay');
    const eveLink = await link(2, eve);
    const fayLink = await link(0, fay);
    const sent = await Promise.all([
      sendAll(eveLink, eve, conversation, 6, 'ev-eve'),
      sendAll(fayLink, fay, conversation, 6, 'ev-fay'),
    ]);
    const all = new Map(sent.flatMap((m) => [...m]));
    const recalledSeq = [...sent[0].keys()][2]!;
    const recalled = await eveLink.request({ type: 'recall', conversation, seq: recalledSeq });
    assert.equal(recalled.type, 'recalled', JSON.stringify(recalled));

    type Event = { id: string; type: string; node: string; data: Record<string, any> };
    let events: Event[] = [];
    await eventually(
      async () => {
        const entries = await redis.xrange('parley:events', '-', '+');
        events = entries.map(([, fields]) => {
          assert.equal(fields[0], 'event');
          return JSON.parse(fields[1]!) as Event;
        });
        const mine = events.filter((e) => e.data.conversation === conversation);
        return (
          mine.filter((e) => e.type === 'message.stored').length >= all.size &&
          mine.some((e) => e.type === 'message.recalled')
        );
      },
      WAIT_MS,
      'events of every send and the recall',
    );
    const stored = events.filter(
      (e) => e.type === 'message.stored' && e.data.conversation === conversation,
    );
    assert.equal(stored.length, all.size, 'one message.stored per message');
    for (const [seq, m] of all) {
      const e = stored.find((s) => s.data.seq === seq);
      assert.ok(e, `message.stored for seq ${seq}`);
      assert.equal(e.data.messageId, m.messageId);
      assert.equal(e.data.sender, m.sender);
      assert.equal(e.data.device, m.device);
      assert.equal(e.data.body.text, m.text);
      assert.equal(
        e.node,
        m.sender === eve.userId ? 'node3' : 'node1',
        'emitted by the storing node',
      );
    }
    // In commit order, per emitting node (two nodes committing into one conversation append
    // independently, so only each node's own appends have an order).
    for (const node of ['node1', 'node3']) {
      const order = stored.filter((e) => e.node === node).map((e) => e.data.seq as number);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `order of ${node}'s events`,
      );
    }
    const recall = events.filter(
      (e) => e.type === 'message.recalled' && e.data.conversation === conversation,
    );
    assert.equal(recall.length, 1);
    assert.equal(recall[0]!.data.seq, recalledSeq);
    assert.equal(recall[0]!.data.by, eve.userId);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'event ids are unique');
  });
});
