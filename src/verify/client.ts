// One device of the verify workload: a real-time client that behaves as docs/protocol.md §8 tells
// clients to (outbox, resend with the same ref, dedupe and gap detection by seq, sync and pull,
// watermarks), and records everything it does and sees into the history. It keeps its state in
// memory: the servers crash in a run, the clients do not.
import WebSocket from 'ws';
import { setTimeout as sleep } from 'node:timers/promises';
import { refOf, type HistoryEvent, type SeenMessage } from './history.js';
import { Link, LinkClosed, type Frame } from './link.js';
import type { Random } from './random.js';

/** Sends written and not yet answered, per link: under the server's send burst. */
const SENDS_IN_FLIGHT_MAX = 32;
/** How long a written send may go unanswered before it is written again on the same link. */
const SEND_ANSWER_WAIT_MS = 4_000;
const PULL_LIMIT_COUNT = 100;
const BACKOFF_MAX_MS = 2_000;
/** The only codes after which a send stays in the outbox (protocol.md §5); others are final. */
const TEMPORARY = new Set(['rate_limited', 'internal']);
/** How soon a send refused for now is written again. */
const RETRY_AFTER_MS = 200;
/** A link that stayed up this long resets the backoff. */
const LINK_STABLE_MS = 5_000;
const BACKOFF_STEP_MS = 50;
/** Pages one pull loop may take: far more than a run stores in a conversation between two. */
const PULL_PAGES_MAX = 1_000;
const POLL_MS = 20;
/** How often the outbox is looked at for sends to write again. */
const PUMP_INTERVAL_MS = 250;

export interface ClientPlan {
  /** The history's name for this device, e.g. `u3/d1`. */
  readonly name: string;
  readonly device: string;
  readonly token: string;
  /** The conversations this device's user is in. */
  readonly convs: readonly string[];
  /** Index of the node this device prefers (devices are spread over nodes). */
  readonly home: number;
}

interface OutboxEntry {
  readonly conv: string;
  attempts: number;
  /** When it was last written on the current link, or 0 when it waits to be written. */
  writtenAt: number;
}

type Record_ = (event: HistoryEvent) => void;

export class VerifyClient {
  readonly plan: ClientPlan;
  private readonly record: Record_;
  private readonly random: Random;
  private readonly nodes: () => readonly string[];
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly seen = new Map<string, number>();
  private readonly held = new Map<string, Map<number, SeenMessage>>();
  private readonly pulling = new Set<string>();
  /** Every ref this device made, to its conversation: late answers name only the ref. */
  private readonly convOf = new Map<string, string>();
  private link: Link | null = null;
  private cursor = '';
  private refs = 0;
  private stopped = false;
  private cutOnNextSend = false;
  private loop: Promise<void> | null = null;
  private syncing: Promise<Map<string, number>> | null = null;

  constructor(plan: ClientPlan, nodes: () => readonly string[], record: Record_, random: Random) {
    this.plan = plan;
    this.nodes = nodes;
    this.record = record;
    this.random = random;
    for (const conv of plan.convs) this.seen.set(conv, 0);
  }

  start(): void {
    this.loop ??= this.connectLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.link?.close();
    await this.loop;
  }

  /** Queues a new message to `conv` (written now if the link is up). */
  send(conv: string): void {
    const ref = `${this.plan.name}.${++this.refs}`;
    this.outbox.set(ref, { conv, attempts: 0, writtenAt: 0 });
    this.convOf.set(ref, conv);
    this.pump();
  }

  /** The next send this client writes is followed at once by a dropped link. */
  cutMidSend(): void {
    this.cutOnNextSend = true;
  }

  get outboxSize(): number {
    return this.outbox.size;
  }

  /** Syncs and pulls until every conversation is caught up; true when it was. Bounded by `until`. */
  async catchUp(until: number): Promise<boolean> {
    while (Date.now() < until) {
      const link = this.link;
      if (link?.ready) {
        try {
          const lastSeqs = await this.syncAndPull(link);
          if (this.plan.convs.every((c) => (this.seen.get(c) ?? 0) >= (lastSeqs.get(c) ?? 0))) {
            return true;
          }
        } catch (err) {
          if (!(err instanceof LinkClosed)) throw err;
        }
      }
      await sleep(POLL_MS * 5);
    }
    return false;
  }

  /** Records this device's `seen` for the checker. */
  recordFinal(caughtUp: boolean): void {
    this.record({
      t: 'final',
      at: Date.now(),
      client: this.plan.name,
      seen: Object.fromEntries(this.seen),
      caughtUp,
    });
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const nodes = this.nodes();
      const url = nodes[(this.plan.home + failures) % nodes.length]!;
      const upAt = Date.now();
      await this.session(url);
      if (this.stopped) return;
      failures = Date.now() - upAt > LINK_STABLE_MS ? 0 : failures + 1;
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_STEP_MS * 2 ** Math.min(failures, 6));
      await sleep(this.random.int(0, ceiling));
    }
  }

  /** One link: hello, resend, catch up, live; resolves when the link is gone. */
  private async session(url: string): Promise<void> {
    const link = new Link(new WebSocket(`${url}/ws`, 'parley.v1.json'), (f) => this.onPush(f));
    this.link = link;
    try {
      const welcome = await link.hello(this.plan.token, this.plan.device);
      this.record({ t: 'link', at: Date.now(), client: this.plan.name, up: true, node: welcome });
      for (const entry of this.outbox.values()) entry.writtenAt = 0;
      this.pump();
      const heartbeat = link.keepAlive();
      // A catch-up that fails (the database is away) is tried again by the next tick.
      void this.syncAndPull(link)
        .then(() => this.markAll(link))
        .catch(ignoreClosed);
      const pumping = setInterval(() => this.pump(), PUMP_INTERVAL_MS);
      await heartbeat;
      clearInterval(pumping);
      await link.closed;
    } catch (err) {
      if (!(err instanceof LinkClosed)) throw err;
    } finally {
      link.close();
      this.link = null;
      const reason = link.closeReason;
      this.record({ t: 'link', at: Date.now(), client: this.plan.name, up: false, reason });
    }
  }

  /** Writes outbox entries that wait, or waited too long for an answer, up to the window. */
  private pump(): void {
    const link = this.link;
    if (!link?.ready) return;
    const now = Date.now();
    let inFlight = 0;
    for (const e of this.outbox.values()) if (e.writtenAt > now - SEND_ANSWER_WAIT_MS) inFlight++;
    for (const [ref, entry] of this.outbox) {
      if (inFlight >= SENDS_IN_FLIGHT_MAX) return;
      if (entry.writtenAt > now - SEND_ANSWER_WAIT_MS) continue;
      entry.attempts++;
      entry.writtenAt = now;
      inFlight++;
      this.record({
        t: 'send',
        at: now,
        client: this.plan.name,
        conv: entry.conv,
        ref,
        attempt: entry.attempts,
      });
      void link
        .send(ref, entry.conv, { kind: 'text', text: ref })
        .then((reply) => this.onSendReply(ref, reply), ignoreClosed);
      if (this.cutOnNextSend) {
        this.cutOnNextSend = false;
        link.close('cut mid-send');
        return;
      }
    }
  }

  /** Records every answer, the second one to a ref too: it must agree with the first. */
  private onSendReply(ref: string, reply: Frame): void {
    const at = Date.now();
    const client = this.plan.name;
    const conv = this.convOf.get(ref);
    if (conv === undefined) return; // not a ref of this device's: nothing to hold it to
    if (reply.type === 'sent') {
      const seq = reply.seq as number;
      const id = reply.messageId as string;
      this.record({ t: 'ack', at, client, conv, ref, seq, id, dup: !!reply.duplicate });
      this.outbox.delete(ref);
      this.apply(conv, { seq, id, ref });
    } else if (!TEMPORARY.has(reply.code as string)) {
      this.record({ t: 'refused', at, client, conv, ref, code: String(reply.code) });
      this.outbox.delete(ref);
    } else {
      const entry = this.outbox.get(ref);
      if (!entry) return;
      entry.writtenAt = 0; // rate_limited or internal: resend with the same ref
      setTimeout(() => this.pump(), RETRY_AFTER_MS);
    }
  }

  private onPush(frame: Frame): void {
    const at = Date.now();
    const client = this.plan.name;
    if (frame.type === 'sent' || frame.type === 'error') {
      // An answer to a send whose wait already ended: a late or second answer.
      if (typeof frame.ref === 'string') this.onSendReply(frame.ref, frame);
    } else if (frame.type === 'message') {
      const conv = frame.conversation as string;
      const msg = seenOf(frame);
      // Recorded even for a conversation this device is not in: the checker calls that a leak.
      this.record({ t: 'push', at, client, conv, msg });
      if (this.seen.has(conv)) this.apply(conv, msg);
    } else if (frame.type === 'receipt') {
      const conv = frame.conversation as string;
      const user = frame.user as string;
      const [deliveredSeq, readSeq] = [frame.deliveredSeq as number, frame.readSeq as number];
      this.record({ t: 'receipt', at, client, conv, user, deliveredSeq, readSeq });
    }
  }

  /** Dedupe by seq, hold what is above a gap, show the contiguous prefix, pull to fill a gap. */
  private apply(conv: string, msg: SeenMessage): void {
    let seen = this.seen.get(conv) ?? 0;
    if (msg.seq <= seen) return;
    let held = this.held.get(conv);
    if (!held) this.held.set(conv, (held = new Map<number, SeenMessage>()));
    if (!held.has(msg.seq)) held.set(msg.seq, msg);
    for (let next = held.get(seen + 1); next; next = held.get(seen + 1)) {
      held.delete(++seen);
      this.record({ t: 'shown', at: Date.now(), client: this.plan.name, conv, msg: next });
    }
    this.seen.set(conv, seen);
    if (held.size > 0 && this.link?.ready) void this.pullConv(this.link, conv).catch(ignoreClosed);
  }

  /**
   * `sync`, then pulls for every conversation behind; the cursor moves only after the pulls. One
   * at a time per device: two syncs in flight could be answered out of order.
   */
  private syncAndPull(link: Link): Promise<Map<string, number>> {
    this.syncing ??= this.syncOnce(link).finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async syncOnce(link: Link): Promise<Map<string, number>> {
    const synced = await link.request({ type: 'sync', cursor: this.cursor }, 'synced');
    const convs = synced.conversations as Frame[];
    this.record({
      t: 'synced',
      at: Date.now(),
      client: this.plan.name,
      convs: convs.map((c) => ({
        id: c.id as string,
        lastSeq: c.lastSeq as number,
        deliveredSeq: c.deliveredSeq as number,
        readSeq: c.readSeq as number,
        unread: c.unread as number,
      })),
    });
    const mine = convs.filter((c) => this.seen.has(c.id as string));
    const lastSeqs = new Map(mine.map((c) => [c.id as string, c.lastSeq as number]));
    const behind = [...lastSeqs].filter(([conv, last]) => last > (this.seen.get(conv) ?? 0));
    await Promise.all(behind.map(([conv]) => this.pullConv(link, conv, true)));
    this.cursor = synced.cursor as string;
    return lastSeqs;
  }

  /**
   * Pulls after `seen` until `hasMore` is false, one loop per conversation at a time. A page that
   * does not move `seen` (a hole the checker will report) ends the loop rather than spin on it.
   */
  private async pullConv(link: Link, conv: string, wait = false): Promise<void> {
    while (this.pulling.has(conv)) {
      if (!wait || !link.ready) return;
      await sleep(POLL_MS);
    }
    this.pulling.add(conv);
    try {
      for (let page = 0, more = true; more && page < PULL_PAGES_MAX && link.ready; page++) {
        const after = this.seen.get(conv) ?? 0;
        const request = { type: 'pull', conversation: conv, after, limit: PULL_LIMIT_COUNT };
        const pulled = await link.request(request, 'pulled');
        const msgs = (pulled.messages as Frame[]).map(seenOf);
        const hasMore = pulled.hasMore === true;
        const client = this.plan.name;
        this.record({ t: 'pulled', at: Date.now(), client, conv, after, msgs, hasMore });
        for (const msg of msgs) this.apply(conv, msg);
        more = hasMore && (this.seen.get(conv) ?? 0) > after;
      }
    } finally {
      this.pulling.delete(conv);
    }
  }

  /** Moves the delivered watermark to `seen`, and sometimes the read one, of every conversation. */
  private markAll(link: Link): void {
    for (const conv of this.plan.convs) {
      const seq = this.seen.get(conv) ?? 0;
      if (seq === 0) continue;
      const kind = this.random.next() < 0.5 ? 'read' : 'ack';
      link.write({ type: kind, conversation: conv, seq });
      this.record({ t: 'mark', at: Date.now(), client: this.plan.name, conv, kind, seq });
    }
  }

  /** Marks and syncs now and then, as an app that shows messages and wakes up does. */
  async tick(): Promise<void> {
    const link = this.link;
    if (!link?.ready) return;
    this.markAll(link);
    await this.syncAndPull(link).catch(ignoreClosed);
  }

  /** Pulls again where a held message still waits above a gap (a pull raced its push). */
  async fillGaps(): Promise<void> {
    const link = this.link;
    if (!link?.ready) return;
    const gaps = [...this.held].filter(([, held]) => held.size > 0).map(([conv]) => conv);
    await Promise.all(gaps.map((conv) => this.pullConv(link, conv).catch(ignoreClosed)));
  }
}

function seenOf(m: Frame): SeenMessage {
  return { seq: m.seq as number, id: m.messageId as string, ref: refOf(m.body) };
}

function ignoreClosed(err: unknown): void {
  if (!(err instanceof LinkClosed)) throw err;
}
