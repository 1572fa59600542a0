// Proves, on three routers joined by a real redis-server (RedisBus, RedisPresence), that the
// pushes of one commit batch go to the other nodes as one bus envelope per node (and one
// broadcast) after one presence lookup, the broadcast before the local pushes, and that every member's sessions get each conversation's
// messages complete and in seq order, for a batch that spans several conversations and nodes.
// Also that a node takes an older node's single-message envelopes beside batched ones, still in
// seq order, and that a bus that cannot publish costs the remote pushes only: the commit's local
// pushes go out, and the next message reaches the remote member with the gap it must pull.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import { Redis } from 'ioredis';
import { pino } from 'pino';

import { RedisBus, nodeChannel } from '../bus/redis-bus.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { redisSkip, startRedis, type RunningRedis } from '../engines/index.js';
import type { StoredMessage } from '../messaging/index.js';
import { jsonCodec } from '../protocol/index.js';
import { RedisPresence } from './redis-presence.js';
import { DeliveryRouter, type LiveSession } from './router.js';

const WAIT_MS = 5_000;
/** Conversations with this many members go out by one broadcast. */
const BROADCAST_MIN = 4;

interface Pushed {
  readonly type: string;
  readonly conversation?: string;
  readonly seq?: number;
}

/** A live session that keeps what it was pushed, decoded. */
class RecordingSession implements LiveSession {
  readonly codec = jsonCodec;
  readonly got: Pushed[] = [];
  readonly userId: string;
  readonly device: string;
  constructor(userId: string, device: string) {
    this.userId = userId;
    this.device = device;
  }
  /** Called before each push is kept. */
  onPush: (() => void) | undefined;
  push(data: string | Uint8Array): void {
    this.onPush?.();
    this.got.push(this.codec.decode(data));
  }
  kick(): void {}
  seqs(conversation: string): number[] {
    return this.got
      .filter((f) => f.type === 'message' && f.conversation === conversation)
      .map((f) => f.seq!);
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('DeliveryRouter in a cluster (real Redis)', { skip: redisSkip() }, () => {
  let redis: RunningRedis;
  let raw: Redis;
  let closers: (() => Promise<void>)[];
  /** conversation → members; what Membership would load. */
  let members: Map<string, Set<string>>;
  let run: string;

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });

  after(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  beforeEach(() => {
    closers = [];
    members = new Map();
    run = randomUUID().slice(0, 8);
  });

  afterEach(async () => {
    for (const close of closers.reverse()) await close();
  });

  /** A node: its router on a RedisBus and a RedisPresence of the shared Redis. */
  async function node(name: string) {
    const nodeId = `${name}-${run}`;
    const bus = new RedisBus({ redis: redis.url });
    const presence = await RedisPresence.open({ redis: redis.url, ttlMs: 60_000 });
    closers.push(
      () => bus.close(),
      () => presence.close(),
    );
    const router = new DeliveryRouter({
      members: {
        withMembers: (c, fn) => fn(members.get(c) ?? new Set()),
        forget: () => undefined,
      },
      limits: DEFAULT_LIMITS,
      logger: pino({ level: 'silent' }),
      cluster: { nodeId, bus, presence, broadcastMembersMin: BROADCAST_MIN },
    });
    await bus.subscribe(nodeId, (m) => router.onBus(m));
    return { nodeId, bus, presence, router };
  }

  type Node = Awaited<ReturnType<typeof node>>;

  /** A user with one session on `at`, once presence lists it. */
  async function online(at: Node, user: string): Promise<RecordingSession> {
    const session = new RecordingSession(`${user}-${run}`, 'phone');
    at.router.attach(session);
    await until(
      async () => (await at.presence.locate([session.userId])).has(session.userId),
      `${user} in presence`,
    );
    return session;
  }

  function conversation(name: string, sessions: readonly RecordingSession[]): string {
    const id = `${name}-${run}`;
    members.set(id, new Set(sessions.map((s) => s.userId)));
    return id;
  }

  function stored(conversationId: string, seq: number, sender: RecordingSession): StoredMessage {
    return {
      id: `${conversationId}:${seq}`,
      conversationId,
      seq,
      senderId: sender.userId,
      device: sender.device,
      body: { kind: 'text', text: `#${seq}` },
      atUs: 1_700_000_000_000_000 + seq,
      recalledAtUs: null,
    };
  }

  /** How many times Redis ran this command since the last CONFIG RESETSTAT. */
  async function calls(command: string): Promise<number> {
    const stats = await raw.info('commandstats');
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  }

  it('sends a batch over several conversations as one envelope per node, in seq order', async () => {
    const [n1, n2, n3] = [await node('n1'), await node('n2'), await node('n3')];
    const u1 = await online(n1, 'u1');
    const u2 = await online(n2, 'u2');
    const u3 = await online(n3, 'u3');
    const u4 = await online(n1, 'u4');
    const c1 = conversation('c1', [u1, u2, u3]);
    const c2 = conversation('c2', [u1, u2]);
    const c3 = conversation('c3', [u4, u3]);
    const big = conversation('big', [u1, u2, u3, u4]); // broadcast
    // What n1's bus still holds for the end of the turn when each local push goes out.
    const heldAtLocalPush: number[] = [];
    const held = n1.bus as unknown as { readonly outgoing: ReadonlyMap<string, unknown> };
    u4.onPush = () => heldAtLocalPush.push(held.outgoing.size);
    await raw.config('RESETSTAT');
    // One commit batch on n1, interleaved as the store answers it: c1 1-20, c2 1-10, c3 1-15,
    // big 1-5, each conversation's seqs ascending.
    const next = new Map<string, number>();
    const order = [c1, c2, c1, c3, c1, big, c3, c2, c1, c3];
    const last = new Map([
      [c1, 20],
      [c2, 10],
      [c3, 15],
      [big, 5],
    ]);
    for (let round = 0; round < 20; round++) {
      for (const c of order) {
        const seq = (next.get(c) ?? 0) + 1;
        if (seq > last.get(c)!) continue;
        next.set(c, seq);
        n1.router.messageStored(stored(c, seq, c === c3 ? u4 : u1));
      }
    }
    await until(
      () =>
        u2.seqs(c1).length === 20 &&
        u2.seqs(c2).length === 10 &&
        u2.seqs(big).length === 5 &&
        u3.seqs(c1).length === 20 &&
        u3.seqs(c3).length === 15 &&
        u3.seqs(big).length === 5,
      'every remote push',
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // a duplicate would be here by now
    assert.deepEqual(u2.seqs(c1), range(1, 20));
    assert.deepEqual(u2.seqs(c2), range(1, 10));
    assert.deepEqual(u2.seqs(big), range(1, 5));
    assert.deepEqual(u2.seqs(c3), [], 'u2 is not in c3');
    assert.deepEqual(u3.seqs(c1), range(1, 20));
    assert.deepEqual(u3.seqs(c3), range(1, 15));
    assert.deepEqual(u3.seqs(big), range(1, 5));
    assert.deepEqual(u4.seqs(c3), [], "the sender's own device is skipped");
    assert.deepEqual(u4.seqs(big), range(1, 5), 'local members get theirs at once');
    assert.ok(
      heldAtLocalPush.length === 5 && heldAtLocalPush.every((n) => n === 0),
      `the broadcast left before the local pushes (held: ${heldAtLocalPush.join()})`,
    );
    assert.equal(await calls('publish'), 3, 'one envelope for n2, one for n3, one broadcast');
    assert.equal(await calls('eval'), 1, 'one presence lookup for the whole batch');
    assert.equal(await calls('hgetall'), 4, 'of the four distinct members, once each');
  });

  it("takes an older node's single-message envelopes beside batched ones, in seq order", async () => {
    const n2 = await node('n2');
    const u2 = await online(n2, 'u2');
    const c = conversation('mixed', [u2]);
    const push = (seq: number) => ({
      kind: 'push',
      users: [u2.userId],
      frame: {
        type: 'message',
        conversation: c,
        seq,
        messageId: `m${seq}`,
        sender: 'someone',
        device: 'd',
        body: { kind: 'text', text: `#${seq}` },
        at: 1_700_000_000_000,
      },
    });
    const to = nodeChannel(n2.nodeId);
    // A new node's batch of 3-5 overtakes an old node's 2: the sequencer holds it until 2 came.
    await raw.publish(to, JSON.stringify({ from: 'old', msg: push(1) }));
    await raw.publish(to, JSON.stringify({ from: 'new', msgs: [push(3), push(4), push(5)] }));
    await raw.publish(to, JSON.stringify({ from: 'old', msg: push(2) }));
    await until(() => u2.seqs(c).length === 5, 'five pushes');
    assert.deepEqual(u2.seqs(c), range(1, 5));
  });

  it('a bus that cannot publish costs only the remote pushes; the next one arrives', async () => {
    const [n1, n2] = [await node('n1'), await node('n2')];
    const u1 = await online(n1, 'u1');
    const peer = await online(n1, 'peer');
    const u2 = await online(n2, 'u2');
    const c = conversation('refused', [u1, u2, peer]);
    // PUBLISH refused (NOPERM) while presence and everything else still work.
    await raw.call('ACL', 'SETUSER', 'default', '-publish');
    try {
      for (const seq of [1, 2]) n1.router.messageStored(stored(c, seq, u1));
      await until(() => n1.bus.dropped >= 1, 'the refused publish is counted');
    } finally {
      await raw.call('ACL', 'SETUSER', 'default', '+publish');
    }
    assert.deepEqual(peer.seqs(c), [1, 2], 'local pushes went out regardless');
    n1.router.messageStored(stored(c, 3, u1));
    await until(() => u2.seqs(c).length === 1, 'the next push reaches n2');
    // Seq 3 after nothing: the gap (1-2) the client closes by pull from the store.
    assert.deepEqual(u2.seqs(c), [3]);
    assert.equal(n1.bus.dropped, 2, 'both messages of the refused envelope are counted');
  });
});
