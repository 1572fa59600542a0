// Proves that a cluster loses no acknowledged message and stores none twice when, during traffic, a node is killed with SIGKILL, Redis restarts with its data lost, or a node is stopped with SIGTERM: clients that follow docs/protocol.md §8 (reconnect elsewhere, resend the outbox with the same refs, sync, pull) end up holding exactly what the store holds.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { RtClient, type Transport } from '../src/test-support/rt-client.js';
import {
  clusterSkip,
  createGroup,
  eventually,
  history,
  newUsers,
  num,
  openDirect,
  sleep,
  startCluster,
  PRESENCE_TTL_MS,
  type TestCluster,
  type User,
  withTimeout,
} from './cluster-harness.js';

const WAIT_MS = 10_000;
const CLIENTS = 6;
/** Sends per client, at one per PACE_MS (under the 50/s rate limit), WINDOW at most unanswered. */
const SENDS = 60;
const PACE_MS = 25;
const WINDOW = 5;
const RUN_MS = 45_000;
const PAGE = 100;

type Frame = Awaited<ReturnType<RtClient['request']>>;

interface Ack {
  readonly conversation: string;
  readonly seq: number;
  readonly messageId: string;
  readonly text: string;
}

const RETRYABLE = new Set(['rate_limited', 'internal', 'unavailable']);

/**
 * A client that follows the reconnect algorithm of docs/protocol.md §8: an outbox written before
 * the first attempt, resent with the same refs after every hello; then sync (with the stored
 * cursor) and pull after the last contiguous seq of every conversation that moved.
 */
class ChatClient {
  readonly user: User;
  readonly transport: Transport;
  readonly conversations: string[] = [];
  readonly links: RtClient[] = [];
  /** The close code of every link that closed, in order. */
  readonly closeCodes: number[] = [];
  readonly outbox = new Map<string, { conversation: string; text: string }>();
  readonly acks = new Map<string, Ack>();
  readonly problems: string[] = [];
  /** `sent` answers with duplicate: true (a resend of a send that had been stored). */
  duplicates = 0;
  reconnects = 0;
  nodeIndex: number;
  private link: RtClient | null = null;
  private cursor: string | undefined;
  private readonly inFlight = new Set<string>();
  private readonly cluster: TestCluster;

  constructor(cluster: TestCluster, user: User, nodeIndex: number, transport: Transport) {
    this.cluster = cluster;
    this.user = user;
    this.nodeIndex = nodeIndex;
    this.transport = transport;
  }

  get name(): string {
    return this.user.username;
  }

  get live(): RtClient | null {
    return this.link && !this.link.isClosed ? this.link : null;
  }

  /** Connects to `preferred`, or the next node that answers, with jittered backoff. */
  async connect(preferred = this.nodeIndex): Promise<void> {
    const nodes = this.cluster.nodes.length;
    for (let attempt = 0; attempt < 20 * nodes; attempt++) {
      const i = (preferred + attempt) % nodes;
      const node = this.cluster.nodes[i]!;
      if (node.alive) {
        try {
          const link = await RtClient.connect(
            node,
            this.transport,
            this.user.token,
            this.user.device,
          );
          this.link = link;
          this.links.push(link);
          this.nodeIndex = i;
          void link.closed.then((code) => this.closeCodes.push(code));
          return;
        } catch {
          // refused, or closed before welcome (a draining node says 1012): try the next one
        }
      }
      if (i === (preferred + nodes - 1) % nodes) await sleep(50 + Math.random() * 150);
    }
    throw new Error(`${this.name}: no node accepted a link`);
  }

  /** After a lost link: reconnect elsewhere and catch up. */
  async recover(): Promise<void> {
    this.reconnects++;
    for (let attempt = 0; attempt < 10; attempt++) {
      await this.connect(this.nodeIndex + 1);
      try {
        await this.catchUp();
        return;
      } catch (err) {
        if (this.live) throw err; // not a lost link: a real failure
      }
    }
    throw new Error(`${this.name}: could not catch up`);
  }

  /** Steps 3-6 of the algorithm: resend the outbox, sync, pull every gap. */
  async catchUp(): Promise<void> {
    const link = this.live;
    if (!link) throw new Error(`${this.name}: no link`);
    await Promise.all([...this.outbox.keys()].map((ref) => this.sendRef(ref)));
    if (this.outbox.size > 0) throw new Error(`${this.name}: outbox not drained`);
    const synced = await link.request(
      { type: 'sync', ...(this.cursor !== undefined ? { cursor: this.cursor } : {}) },
      WAIT_MS,
    );
    assert.equal(synced.type, 'synced', JSON.stringify(synced));
    for (const c of (synced.conversations ?? []) as Frame[]) {
      for (let pages = 0; num(c.lastSeq) > this.seen(c.id); pages++) {
        assert.ok(pages < 1_000, 'pulling does not end');
        const page: Frame = await link.request(
          { type: 'pull', conversation: c.id, after: this.seen(c.id), limit: PAGE },
          WAIT_MS,
        );
        assert.equal(page.type, 'pulled', JSON.stringify(page));
        if ((page.messages ?? []).length === 0) {
          this.problems.push(`pull after ${this.seen(c.id)} of ${c.id} was empty`);
          break;
        }
      }
    }
    this.cursor = synced.cursor;
  }

  /** Sends `count` messages, one per `paceMs`, recovering from lost links, until all are acked. */
  async run(count: number, paceMs: number): Promise<void> {
    let next = 0;
    const deadline = Date.now() + RUN_MS;
    while (next < count || this.outbox.size > 0) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: ${count - next} unsent, ${this.outbox.size} unanswered`);
      }
      if (!this.live) {
        await this.recover();
        continue;
      }
      if (next < count && this.inFlight.size < WINDOW) {
        const ref = `${this.name}-${next}`;
        const conversation = this.conversations[next % this.conversations.length]!;
        this.outbox.set(ref, { conversation, text: `${this.name} #${next}` });
        next++;
        void this.sendRef(ref);
        await sleep(paceMs);
        continue;
      }
      if (this.inFlight.size === 0) {
        // Unanswered on a live link (a retryable error): resend with the same ref.
        for (const ref of this.outbox.keys()) void this.sendRef(ref);
      }
      await sleep(10);
    }
  }

  /** Resends an acknowledged ref: it must be answered duplicate with the original seq and id. */
  async resendAcked(ref: string): Promise<Frame> {
    const ack = this.acks.get(ref);
    assert.ok(ack, `${ref} was acknowledged`);
    const link = this.live;
    assert.ok(link);
    return link.request(
      {
        type: 'send',
        ref,
        conversation: ack.conversation,
        body: { kind: 'text', text: ack.text },
      },
      WAIT_MS,
    );
  }

  /** Every message this client holds for a conversation, deduped by seq, from every source. */
  held(conversation: string): Map<number, string> {
    const out = new Map<number, string>();
    const keep = (seq: number, messageId: string, source: string): void => {
      const had = out.get(seq);
      if (had !== undefined && had !== messageId) {
        this.problems.push(`${source}: seq ${seq} of ${conversation} is ${messageId}, was ${had}`);
      }
      out.set(seq, messageId);
    };
    for (const link of this.links) {
      for (const f of link.frames) {
        if ((f.type === 'message' || f.type === 'sent') && f.conversation === conversation) {
          keep(num(f.seq), f.messageId, f.type);
        } else if (f.type === 'pulled' && f.conversation === conversation) {
          for (const m of f.messages ?? []) keep(num(m.seq), m.messageId, 'pulled');
        }
      }
    }
    return out;
  }

  /** The highest seq up to which this client holds every message. */
  seen(conversation: string): number {
    const held = this.held(conversation);
    let seq = 0;
    while (held.has(seq + 1)) seq++;
    return seq;
  }

  close(): void {
    for (const link of this.links) link.drop();
  }

  private async sendRef(ref: string): Promise<void> {
    const link = this.live;
    const pending = this.outbox.get(ref);
    if (!link || !pending || this.inFlight.has(ref)) return;
    this.inFlight.add(ref);
    try {
      const answer = await link.request(
        {
          type: 'send',
          ref,
          conversation: pending.conversation,
          body: { kind: 'text', text: pending.text },
        },
        WAIT_MS,
      );
      if (answer.type === 'sent') {
        this.onSent(ref, pending.text, answer);
      } else if (!RETRYABLE.has(answer.code)) {
        this.problems.push(`${ref}: ${JSON.stringify(answer)}`);
        this.outbox.delete(ref);
      }
    } catch {
      // No answer (the link died): the ref stays in the outbox for the next hello.
    } finally {
      this.inFlight.delete(ref);
    }
  }

  private onSent(ref: string, text: string, answer: Frame): void {
    const ack: Ack = {
      conversation: answer.conversation,
      seq: num(answer.seq),
      messageId: answer.messageId,
      text,
    };
    if (answer.duplicate) this.duplicates++;
    const earlier = this.acks.get(ref);
    if (earlier && (earlier.seq !== ack.seq || earlier.messageId !== ack.messageId)) {
      this.problems.push(`${ref} acknowledged twice: seq ${earlier.seq} then ${ack.seq}`);
    }
    if (!earlier) this.acks.set(ref, ack);
    this.outbox.delete(ref);
  }
}

const totalAcks = (clients: readonly ChatClient[]): number =>
  clients.reduce((sum, c) => sum + c.acks.size, 0);

/** Messages of others that a client holds from a pull but never got pushed (or sent itself). */
function onlyPulled(c: ChatClient): number {
  let n = 0;
  for (const conversation of c.conversations) {
    const pushed = new Set<number>();
    const pulled = new Set<number>();
    for (const f of c.links.flatMap((link) => link.frames)) {
      if (f.conversation !== conversation) continue;
      if (f.type === 'message' || f.type === 'sent') pushed.add(num(f.seq));
      else if (f.type === 'pulled') for (const m of f.messages ?? []) pulled.add(num(m.seq));
    }
    for (const seq of pulled) if (!pushed.has(seq)) n++;
  }
  return n;
}

describe('a cluster under failures', { skip: clusterSkip() }, () => {
  let cluster: TestCluster;
  let redis: Redis;
  const everyone: ChatClient[] = [];

  before(async () => {
    cluster = await startCluster({ nodes: 3, tcp: true });
    redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => undefined);
  });

  after(async () => {
    for (const c of everyone) c.close();
    redis?.disconnect();
    await cluster?.close();
  });

  /**
   * CLIENTS users, client i on node i % 3, in one group and in a direct conversation with a
   * partner on another node; each client sends to both in turn.
   */
  async function setUp(prefix: string, transports: readonly Transport[]): Promise<ChatClient[]> {
    const live = cluster.nodes.filter((n) => n.alive).map((n) => n.url);
    const names = Array.from({ length: CLIENTS }, (_, i) => `${prefix}${i}`);
    const users = await newUsers(live, names, CLIENTS);
    const group = await createGroup(live[0]!, users[0]!, `${prefix} group`, users.slice(1));
    const clients = users.map(
      (u, i) => new ChatClient(cluster, u, i % 3, transports[i % transports.length]!),
    );
    everyone.push(...clients);
    for (let i = 0; i < CLIENTS / 2; i++) {
      const a = clients[2 * i]!;
      const b = clients[2 * i + 1]!;
      const direct = await openDirect(live[0]!, a.user, b.user.username);
      a.conversations.push(group, direct);
      b.conversations.push(group, direct);
    }
    await Promise.all(clients.map((c) => c.connect()));
    for (const c of clients) await c.catchUp();
    return clients;
  }

  /**
   * The end state: every acknowledged message is stored once with its acknowledged seq and id,
   * seqs are dense, nothing unacknowledged is stored, and every client, after a last sync and
   * pull, holds exactly what the store holds.
   */
  async function verify(t: TestContext, clients: readonly ChatClient[]): Promise<void> {
    for (const c of clients) {
      if (!c.live) await c.recover();
      await c.catchUp();
    }
    const url = cluster.nodes.find((n) => n.alive)!.url;
    const conversations = [...new Set(clients.flatMap((c) => c.conversations))];
    for (const conversation of conversations) {
      const members = clients.filter((c) => c.conversations.includes(conversation));
      const stored = await history(url, members[0]!.user, conversation);
      assert.deepEqual(
        stored.map((m) => m.seq),
        Array.from({ length: stored.length }, (_, i) => i + 1),
        'stored seqs are dense',
      );
      const acked = members.flatMap((c) =>
        [...c.acks.values()].filter((a) => a.conversation === conversation),
      );
      assert.equal(stored.length, acked.length, 'one stored message per acknowledged send');
      const bySeq = new Map(stored.map((m) => [m.seq, m]));
      for (const a of acked) {
        const m = bySeq.get(a.seq);
        assert.ok(m, `acknowledged seq ${a.seq} is stored`);
        assert.equal(m.id, a.messageId, `seq ${a.seq}: the acknowledged id`);
        assert.equal(m.body.text, a.text, `seq ${a.seq}: the acknowledged text`);
      }
      assert.equal(new Set(stored.map((m) => m.body.text)).size, stored.length, 'no text twice');
      const truth = new Map(stored.map((m) => [m.seq, m.id]));
      for (const c of members) {
        assert.deepEqual(c.held(conversation), truth, `${c.name} holds every message once`);
      }
    }
    for (const c of clients) assert.deepEqual(c.problems, [], `${c.name}: no protocol problems`);
    t.diagnostic(
      `acks ${totalAcks(clients)}, duplicate answers ${clients.reduce((s, c) => s + c.duplicates, 0)}, ` +
        `reconnects ${clients.reduce((s, c) => s + c.reconnects, 0)}`,
    );
  }

  it('loses nothing when a node is killed with SIGKILL during traffic', async (t) => {
    const clients = await setUp('k', [
      'ws-json',
      'ws-json',
      'ws-proto',
      'ws-json',
      'tcp',
      'ws-json',
    ]);
    const victims = clients.filter((c) => c.nodeIndex === 1);
    const running = Promise.all(clients.map((c) => c.run(SENDS, PACE_MS)));
    const kill = (async () => {
      await eventually(() => totalAcks(clients) >= (CLIENTS * SENDS) / 3, RUN_MS, 'traffic');
      await cluster.kill(1);
    })();
    await Promise.all([running, kill]);
    assert.equal(cluster.nodes[1]!.child.signalCode, 'SIGKILL');
    for (const c of victims) {
      assert.ok(c.reconnects >= 1, `${c.name} reconnected`);
      assert.notEqual(c.nodeIndex, 1, `${c.name} moved to another node`);
    }
    await verify(t, clients);

    // A resent ref is answered from the store: duplicate, with the original seq and id.
    for (const c of clients) {
      const ref = `${c.name}-0`;
      const again = await c.resendAcked(ref);
      assert.equal(again.type, 'sent', JSON.stringify(again));
      assert.equal(again.duplicate, true);
      assert.equal(num(again.seq), c.acks.get(ref)!.seq);
      assert.equal(again.messageId, c.acks.get(ref)!.messageId);
    }
    await cluster.restart(1);
  });

  it('loses nothing when Redis restarts (data lost) during traffic, and pushes heal', async (t) => {
    const clients = await setUp('r', ['ws-json', 'tcp', 'ws-proto']);
    let acksBeforeOutage = 0;
    let acksAfterOutage = 0;
    const running = Promise.all(clients.map((c) => c.run(SENDS, PACE_MS)));
    const outage = (async () => {
      await eventually(() => totalAcks(clients) >= (CLIENTS * SENDS) / 4, RUN_MS, 'traffic');
      await cluster.redis.kill();
      acksBeforeOutage = totalAcks(clients);
      await sleep(1_000);
      acksAfterOutage = totalAcks(clients);
      await cluster.redis.start();
    })();
    await Promise.all([running, outage]);
    assert.ok(
      acksAfterOutage > acksBeforeOutage,
      `sends were acknowledged while Redis was down (${acksBeforeOutage} → ${acksAfterOutage})`,
    );
    for (const c of clients) assert.equal(c.reconnects, 0, `${c.name} kept its link`);

    // Presence is rewritten by the next refresh and the bus resubscribes: a push from each node
    // reaches the group's members on the other nodes again, within a bounded wait.
    const group = clients[0]!.conversations[0]!;
    const started = Date.now();
    for (const sender of clients.slice(0, 3)) {
      const others = clients.filter((c) => c.nodeIndex !== sender.nodeIndex);
      let probe = 0;
      await eventually(
        async () => {
          const ref = `${sender.name}-probe-${probe++}`;
          const text = `${ref} text`;
          const sent = await sender.live!.request(
            { type: 'send', ref, conversation: group, body: { kind: 'text', text } },
            WAIT_MS,
          );
          assert.equal(sent.type, 'sent', JSON.stringify(sent));
          sender.acks.set(ref, {
            conversation: group,
            seq: num(sent.seq),
            messageId: sent.messageId,
            text,
          });
          const reached = await Promise.all(
            others.map((o) =>
              o
                .live!.waitFor(
                  (f) =>
                    f.type === 'message' &&
                    f.conversation === group &&
                    num(f.seq) === num(sent.seq),
                  { timeoutMs: 500 },
                )
                .then(
                  () => true,
                  () => false,
                ),
            ),
          );
          return reached.every(Boolean);
        },
        WAIT_MS * 2,
        `pushes from ${sender.name} reach the other nodes again`,
        0,
      );
    }
    t.diagnostic(`cross-node pushes healed ${Date.now() - started} ms after the checks began`);
    for (let i = 0; i < 3; i++) {
      const logged = cluster.logMessages(i);
      assert.ok(
        logged.includes('redis connection lost; reconnecting'),
        `node${i + 1} logged the loss`,
      );
      assert.ok(logged.includes('redis reconnected'), `node${i + 1} logged the reconnect`);
    }
    await verify(t, clients);
  });

  it('loses nothing while the bus refuses to publish; the clients pull what was not pushed', async (t) => {
    const clients = await setUp('p', ['ws-json', 'tcp', 'ws-proto']);
    let acksWhileRefused = 0;
    const running = Promise.all(clients.map((c) => c.run(SENDS, PACE_MS)));
    const refusal = (async () => {
      await eventually(() => totalAcks(clients) >= (CLIENTS * SENDS) / 4, RUN_MS, 'traffic');
      // PUBLISH refused (NOPERM): every bus envelope fails; presence and the store still work.
      await redis.call('ACL', 'SETUSER', 'default', '-publish');
      try {
        const before = totalAcks(clients);
        await sleep(1_000);
        acksWhileRefused = totalAcks(clients) - before;
      } finally {
        await redis.call('ACL', 'SETUSER', 'default', '+publish');
      }
    })();
    await Promise.all([running, refusal]);
    assert.ok(acksWhileRefused > 0, `sends acknowledged while refused: ${acksWhileRefused}`);
    for (const c of clients) assert.equal(c.reconnects, 0, `${c.name} kept its link`);
    await verify(t, clients);
    const pulledOnly = clients.reduce((sum, c) => sum + onlyPulled(c), 0);
    assert.ok(pulledOnly > 0, 'some messages reached a member by pull only: their push was lost');
    t.diagnostic(
      `acknowledged while refused ${acksWhileRefused}, reached by pull only ${pulledOnly}`,
    );
  });

  it('loses nothing when a node stops with SIGTERM: its clients get 1012 and move', async (t) => {
    const clients = await setUp('s', [
      'ws-json',
      'tcp',
      'ws-json',
      'ws-proto',
      'ws-json',
      'ws-json',
    ]);
    const leaving = clients.filter((c) => c.nodeIndex === 2);
    const running = Promise.all(clients.map((c) => c.run(SENDS, PACE_MS)));
    const stop = (async () => {
      await eventually(() => totalAcks(clients) >= (CLIENTS * SENDS) / 3, RUN_MS, 'traffic');
      const signalled = Date.now();
      const exitCode = await cluster.stop(2);
      t.diagnostic(`node3 exited ${Date.now() - signalled} ms after SIGTERM`);
      return exitCode;
    })();
    const [, code] = await Promise.all([running, stop]);
    assert.equal(code, 0, 'the node exits cleanly');
    for (const c of leaving) {
      assert.equal(c.closeCodes[0], 1012, `${c.name} was told to reconnect elsewhere`);
      assert.notEqual(c.nodeIndex, 2, `${c.name} moved`);
    }
    // It left presence clean: no entry names the stopped node.
    for (const c of clients) {
      const fields = Object.keys(await redis.hgetall(`parley:presence:${c.user.userId}`));
      assert.deepEqual(
        fields.filter((f) => (JSON.parse(f) as string[])[1] === 'node3'),
        [],
        `${c.name}: no presence entry on node3`,
      );
    }
    await verify(t, clients);
  });

  it('drains a SIGTERMed node promptly: 1012 at once, peers told offline, presence cleared', async () => {
    const stopped = await cluster.restart(2);
    const other = cluster.nodes.findIndex((n, i) => i !== 2 && n.alive);
    const [peer, leaver] = await newUsers(
      [cluster.nodes[other]!.url, stopped.url],
      ['drain-peer', 'drain-leaver'],
      2,
    );
    await openDirect(stopped.url, leaver!, 'drain-peer');
    const peerLink = await RtClient.connect(cluster.nodes[other]!, 'ws-json', peer!.token, 'd1');
    const leaverLink = await RtClient.connect(stopped, 'ws-json', leaver!.token, 'd1');
    try {
      const aboutLeaver = (f: Frame) => f.type === 'presence' && f.user === leaver!.userId;
      await peerLink.waitFor((f) => aboutLeaver(f) && f.online === true, { timeoutMs: WAIT_MS });
      const signalled = Date.now();
      const exit = cluster.stop(2);
      const code = await withTimeout(leaverLink.closed, WAIT_MS, 'the 1012');
      const closeMs = Date.now() - signalled;
      assert.equal(code, 1012);
      assert.equal(await exit, 0);
      const offline = await peerLink
        .waitFor((f) => aboutLeaver(f) && f.online !== true, { timeoutMs: 2_000 })
        .then(
          () => true,
          () => false,
        );
      const entries = Object.keys(await redis.hgetall(`parley:presence:${leaver!.userId}`));
      const warnings = cluster.logMessages(2).filter((m) => m === 'presence update failed');
      assert.deepEqual(
        { closeWithin1s: closeMs < 1_000, peerToldOffline: offline, entries, warnings },
        { closeWithin1s: true, peerToldOffline: true, entries: [], warnings: [] },
        `1012 came ${closeMs} ms after SIGTERM`,
      );
    } finally {
      peerLink.drop();
      leaverLink.drop();
    }
  });

  it('shows the users of a killed node offline to their peers once presence expires', async () => {
    const live = cluster.nodes.filter((n) => n.alive);
    assert.ok(live.length >= 2);
    const [peer, gone] = await newUsers(
      live.map((n) => n.url),
      ['peer', 'gone'],
      2,
    );
    await openDirect(live[0]!.url, peer!, 'gone');
    const peerLink = await RtClient.connect(live[0]!, 'ws-json', peer!.token, peer!.device);
    const goneIndex = cluster.nodes.indexOf(live[1]!);
    const goneLink = await RtClient.connect(live[1]!, 'ws-json', gone!.token, gone!.device);
    try {
      const isGone = (f: Frame) => f.type === 'presence' && f.user === gone!.userId;
      await peerLink.waitFor((f) => isGone(f) && f.online === true, { timeoutMs: WAIT_MS });
      await cluster.kill(goneIndex);
      // The entry expires after the TTL; a live node finds the dead one silent after the TTL
      // and one beat (TTL / 3), and announces its users; one more beat for it to look.
      await peerLink.waitFor((f) => isGone(f) && f.online !== true, {
        timeoutMs: PRESENCE_TTL_MS * 2 + 2_000,
      });
    } finally {
      peerLink.drop();
      goneLink.drop();
    }
  });
});
