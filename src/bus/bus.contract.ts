// The Bus contract suite: proves that a backend routes publish to one node and broadcast to every
// other node, keeps each publisher's order, delivers copies, honours subscribe and close, and
// never throws from publish, even while its backend is down.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { Bus, BusMessage } from './bus.js';

/** What a backend's test hands to the suite: Bus instances that share one backend. */
export interface BusBackend {
  /** A new, unsubscribed Bus on the shared backend. The suite closes every Bus it makes. */
  make(): Bus;
  /** Releases the backend after the suite has closed its buses. */
  close(): Promise<void>;
  /** For networked backends: take the backend down (losing its state) and bring it back. */
  readonly outage?: BackendOutage;
}

export interface BackendOutage {
  down(): Promise<void>;
  up(): Promise<void>;
}

export interface BusContractOptions {
  open(): Promise<BusBackend>;
}

/** The longest any awaited delivery may take before the test fails. */
const DELIVERY_WAIT_MS = 5_000;
/** After an outage, how long the backend has to carry messages again. */
const RECOVERY_WAIT_MS = 15_000;
const PROBE_INTERVAL_MS = 100;
const ORDERED_COUNT = 500;

const marker = (name: string): BusMessage => ({ kind: 'members-changed', conversation: name });
const nameOf = (m: BusMessage): string => (m.kind === 'members-changed' ? m.conversation : m.kind);

/** Collects what one node receives and lets a test wait, bounded, for a condition on it. */
class Inbox {
  readonly received: BusMessage[] = [];
  private readonly waiters: { check: () => boolean; done: () => void }[] = [];

  readonly handler = (message: BusMessage): void => {
    this.received.push(message);
    for (const waiter of [...this.waiters]) if (waiter.check()) waiter.done();
  };

  names(): string[] {
    return this.received.map(nameOf);
  }

  /** Resolves once `check` holds; rejects after `ms`. */
  until(check: () => boolean, what: string, ms = DELIVERY_WAIT_MS): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        check,
        done: () => {
          clearTimeout(timer);
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `timed out after ${ms} ms waiting for ${what}; got [${this.names().join(', ')}]`,
          ),
        );
      }, ms);
      this.waiters.push(waiter);
    });
  }

  has(name: string): Promise<void> {
    return this.until(() => this.names().includes(name), name);
  }
}

export function runBusContract(options: BusContractOptions): void {
  describe('Bus contract', () => {
    let backend: BusBackend;
    let buses: Bus[];

    beforeEach(async () => {
      backend = await options.open();
      buses = [];
    });

    afterEach(async () => {
      for (const bus of buses) await bus.close();
      await backend.close();
    });

    /** A subscribed node with a unique id (unique so that runs never hear each other). */
    async function node(label: string): Promise<{ id: string; bus: Bus; inbox: Inbox }> {
      const bus = backend.make();
      buses.push(bus);
      const id = `${label}-${randomUUID().slice(0, 8)}`;
      const inbox = new Inbox();
      await bus.subscribe(id, inbox.handler);
      return { id, bus, inbox };
    }

    it('publish reaches only the addressed node', async () => {
      const [p, a, b, c] = await Promise.all([node('p'), node('a'), node('b'), node('c')]);
      p.bus.publish(b.id, marker('for-b'));
      // Markers sent after it, by the same publisher, arrive after anything it sent before.
      for (const other of [p, a, c]) p.bus.publish(other.id, marker('after'));
      await b.inbox.has('for-b');
      for (const other of [p, a, c]) {
        await other.inbox.has('after');
        assert.deepEqual(other.inbox.names(), ['after'], `${other.id} got only its marker`);
      }
      assert.deepEqual(b.inbox.names(), ['for-b']);
    });

    it('a node may publish to itself', async () => {
      const a = await node('a');
      a.bus.publish(a.id, marker('self'));
      await a.inbox.has('self');
    });

    it('broadcast reaches every other node but not the publisher', async () => {
      const [a, b, c] = await Promise.all([node('a'), node('b'), node('c')]);
      a.bus.broadcast(marker('all'));
      a.bus.publish(a.id, marker('after'));
      await b.inbox.has('all');
      await c.inbox.has('all');
      await a.inbox.has('after');
      assert.deepEqual(a.inbox.names(), ['after'], 'the publisher does not hear its broadcast');
      assert.deepEqual(b.inbox.names(), ['all']);
      assert.deepEqual(c.inbox.names(), ['all']);
    });

    it(`keeps each publisher's order to a node (${ORDERED_COUNT} messages each)`, async () => {
      const [p1, p2, b] = await Promise.all([node('p1'), node('p2'), node('b')]);
      for (let i = 1; i <= ORDERED_COUNT; i++) {
        p1.bus.publish(b.id, marker(`p1:${i}`));
        p2.bus.publish(b.id, marker(`p2:${i}`));
      }
      await b.inbox.until(() => b.inbox.received.length >= 2 * ORDERED_COUNT, 'every message');
      const expected = Array.from({ length: ORDERED_COUNT }, (_, i) => i + 1);
      for (const p of ['p1', 'p2']) {
        const seen = b.inbox
          .names()
          .filter((n) => n.startsWith(`${p}:`))
          .map((n) => Number(n.slice(p.length + 1)));
        assert.deepEqual(seen, expected, `${p} arrived complete and in order`);
      }
    });

    it('keeps the order per node of one turn that publishes to several nodes and broadcasts', async () => {
      const [p, b, c] = await Promise.all([node('p'), node('b'), node('c')]);
      // One synchronous turn, interleaved the way a commit batch's pushes are.
      for (let i = 1; i <= 100; i++) {
        p.bus.publish(b.id, marker(`b:${i}`));
        if (i % 3 === 0) p.bus.publish(c.id, marker(`c:${i}`));
        if (i % 10 === 0) p.bus.broadcast(marker(`all:${i}`));
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
      p.bus.publish(b.id, marker('b:next-turn'));
      p.bus.publish(c.id, marker('c:next-turn'));
      const only = (inbox: Inbox, prefix: string): string[] =>
        inbox.names().filter((n) => n.startsWith(prefix));
      const range = (prefix: string, step: number): string[] =>
        Array.from({ length: Math.floor(100 / step) }, (_, i) => `${prefix}${(i + 1) * step}`);
      await b.inbox.has('b:next-turn');
      await c.inbox.has('c:next-turn');
      await b.inbox.until(() => only(b.inbox, 'all:').length === 10, 'the broadcasts at b');
      await c.inbox.until(() => only(c.inbox, 'all:').length === 10, 'the broadcasts at c');
      assert.deepEqual(only(b.inbox, 'b:'), [...range('b:', 1), 'b:next-turn']);
      assert.deepEqual(only(c.inbox, 'c:'), [...range('c:', 3), 'c:next-turn']);
      assert.deepEqual(only(b.inbox, 'all:'), range('all:', 10), 'broadcasts in order at b');
      assert.deepEqual(only(c.inbox, 'all:'), range('all:', 10), 'broadcasts in order at c');
      assert.equal(b.inbox.received.length, 111, 'b got nothing else, and nothing twice');
      assert.equal(c.inbox.received.length, 44, 'c got nothing else, and nothing twice');
      assert.deepEqual(p.inbox.names(), [], 'the publisher hears none of its broadcasts');
    });

    it('delivers a structurally equal copy of the payload', async () => {
      const [a, b] = await Promise.all([node('a'), node('b')]);
      const message: BusMessage = {
        kind: 'push',
        users: ['u1', 'u2'],
        frame: {
          type: 'message',
          conversation: 'c1',
          seq: 7,
          messageId: 'm7',
          sender: 'u1',
          device: 'phone',
          body: { kind: 'text', text: 'héllo \u0000 👋 "quoted"\n' },
          at: 1_700_000_000_123,
        },
        skip: { user: 'u1', device: 'phone' },
      };
      const snapshot = structuredClone(message);
      a.bus.publish(b.id, message);
      (message.users as string[]).push('mutated-after-publish');
      await b.inbox.until(() => b.inbox.received.length === 1, 'the push');
      const [got] = b.inbox.received;
      assert.deepEqual(got, snapshot);
      assert.notEqual(got, message);
    });

    it('delivers nothing published before subscribe', async () => {
      const [p, w] = await Promise.all([node('p'), node('w')]);
      const lateBus = backend.make();
      buses.push(lateBus);
      const late = { id: `late-${randomUUID().slice(0, 8)}`, inbox: new Inbox() };
      p.bus.publish(late.id, marker('too-early'));
      p.bus.broadcast(marker('too-early-broadcast'));
      p.bus.publish(w.id, marker('barrier'));
      await w.inbox.has('barrier');
      await lateBus.subscribe(late.id, late.inbox.handler);
      p.bus.publish(late.id, marker('on-time'));
      await late.inbox.has('on-time');
      assert.deepEqual(late.inbox.names(), ['on-time']);
    });

    it('delivers nothing after close resolves', async () => {
      const [p, w, x] = await Promise.all([node('p'), node('w'), node('x')]);
      await x.bus.close();
      p.bus.publish(x.id, marker('after-close'));
      p.bus.broadcast(marker('after-close-broadcast'));
      p.bus.publish(w.id, marker('barrier'));
      await w.inbox.has('barrier');
      assert.deepEqual(x.inbox.names(), []);
      await x.bus.close(); // closing twice is harmless
    });

    it('publish and broadcast never throw: unknown node, before subscribe, after close', async () => {
      const fresh = backend.make();
      buses.push(fresh);
      assert.doesNotThrow(() => fresh.publish('nobody', marker('x')));
      assert.doesNotThrow(() => fresh.broadcast(marker('x')));
      const a = await node('a');
      assert.doesNotThrow(() => a.bus.publish(`nobody-${randomUUID()}`, marker('x')));
      await a.bus.close();
      assert.doesNotThrow(() => a.bus.publish(a.id, marker('x')));
      assert.doesNotThrow(() => a.bus.broadcast(marker('x')));
    });

    it('survives a backend outage: publish never throws, drops, then flows again', async (t) => {
      const outage = backend.outage;
      if (!outage) return t.skip('this backend has no outage to simulate');
      const [a, b] = await Promise.all([node('a'), node('b')]);
      await outage.down();
      for (let i = 0; i < 50; i++) {
        assert.doesNotThrow(() => a.bus.publish(b.id, marker('while-down')));
        assert.doesNotThrow(() => a.bus.broadcast(marker('while-down')));
      }
      await outage.up();
      // Probe until a message gets through both ways: reconnect and resubscribe are automatic.
      await probeUntil(a.bus, b.id, b.inbox, 'to-b');
      await probeUntil(b.bus, null, a.inbox, 'broadcast-to-a');
      assert.ok(!b.inbox.names().includes('while-down'), 'nothing sent while down is queued');
      assert.ok(!a.inbox.names().includes('while-down'));
    });
  });
}

/** Publishes (or broadcasts, when `to` is null) a probe every interval until one arrives. */
async function probeUntil(from: Bus, to: string | null, inbox: Inbox, name: string) {
  const probe = marker(name);
  const send = (): void => (to === null ? from.broadcast(probe) : from.publish(to, probe));
  send();
  const timer = setInterval(send, PROBE_INTERVAL_MS);
  try {
    await inbox.until(() => inbox.names().includes(name), name, RECOVERY_WAIT_MS);
  } finally {
    clearInterval(timer);
  }
}
