// Proves the sequencer releases pushes in seq order per conversation, holds a push only while an
// earlier seq is missing and never longer than its hold time, and forgets idle conversations; and,
// on real timers and a real socket, that a hold which runs out during a long turn still lets the
// missing seq in when it is already waiting in a socket.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Sequencer } from './sequencer.js';

/** A sequencer on a fake clock whose timers fire only when the test advances time. */
function harness(holdMs = 100, idleMs = 1000) {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const out: string[] = [];
  const seq = new Sequencer({
    holdMs,
    idleMs,
    now: () => now,
    setTimer: (fn, ms) => {
      const timer = { at: now + ms, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
  });
  return {
    out,
    push: (conversation: string, n: number, previousAtMs?: number) =>
      seq.submit(conversation, n, () => out.push(`${conversation}${n}`), previousAtMs),
    get now() {
      return now;
    },
    advance(ms: number) {
      now += ms;
      for (const t of timers.splice(0)) {
        if (t.cancelled) continue;
        if (t.at <= now) t.fn();
        else timers.push(t);
      }
    },
    get size() {
      return seq.size;
    },
  };
}

describe('Sequencer', () => {
  it("waits for a new conversation's earlier seqs when the one before was stamped just now", () => {
    // A group in a cluster: this node's own commit (51-53) is back before the other node's
    // earlier batch (1-50) has crossed the bus.
    const h = harness(100);
    for (const n of [51, 52, 53]) h.push('g', n, h.now - 5);
    assert.deepEqual(h.out, [], 'held: 50 was stamped 5 ms ago, and may be on its way');
    for (let n = 1; n <= 50; n++) h.push('g', n, n === 1 ? undefined : h.now - 6);
    assert.deepEqual(
      h.out,
      Array.from({ length: 53 }, (_, i) => `g${i + 1}`),
      'every push in seq order',
    );
  });

  it('does not wait when the seq before was stamped longer ago than the hold', () => {
    const h = harness(100);
    h.push('g', 51, h.now - 500);
    assert.deepEqual(h.out, ['g51']);
    const plain = harness(100);
    plain.push('g', 51);
    assert.deepEqual(plain.out, ['g51'], 'nor without a hint');
  });

  it('releases a held first push after the hold when the seq before never comes', () => {
    const h = harness(100);
    h.push('g', 7, h.now - 1);
    assert.deepEqual(h.out, []);
    h.advance(100);
    assert.deepEqual(h.out, ['g7']);
    h.push('g', 8, h.now - 1);
    assert.deepEqual(h.out, ['g7', 'g8'], 'a known conversation ignores the hint');
  });

  it('passes pushes that come in order straight through', () => {
    const h = harness();
    for (const n of [1, 2, 3]) h.push('a', n);
    assert.deepEqual(h.out, ['a1', 'a2', 'a3']);
  });

  it('holds a push until the missing earlier seq arrives, then releases both in order', () => {
    const h = harness();
    h.push('a', 5);
    h.push('a', 7);
    h.push('a', 8);
    assert.deepEqual(h.out, ['a5']);
    h.push('a', 6);
    assert.deepEqual(h.out, ['a5', 'a6', 'a7', 'a8']);
  });

  it('keeps conversations independent', () => {
    const h = harness();
    h.push('a', 1);
    h.push('b', 10);
    h.push('a', 3);
    h.push('b', 11);
    assert.deepEqual(h.out, ['a1', 'b10', 'b11']);
  });

  it('releases what it holds, in order, when the gap does not fill within the hold time', () => {
    const h = harness(100);
    h.push('a', 1);
    h.push('a', 4);
    h.push('a', 3);
    h.advance(99);
    assert.deepEqual(h.out, ['a1']);
    h.advance(1);
    assert.deepEqual(h.out, ['a1', 'a3', 'a4']);
    h.push('a', 5);
    assert.deepEqual(h.out, ['a1', 'a3', 'a4', 'a5'], 'carries on after the gap');
    h.push('a', 2);
    assert.deepEqual(h.out.at(-1), 'a2', 'a seq that finally arrives late still goes out');
  });

  it('starts a conversation afresh after it was idle, instead of waiting on a stale seq', () => {
    const h = harness(100, 1000);
    h.push('a', 1);
    h.advance(1001);
    h.push('a', 40);
    assert.deepEqual(h.out, ['a1', 'a40']);
  });

  it('gives up only after reading the I/O that was due when the hold ran out', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = connect(port, '127.0.0.1');
    const [[accepted]] = (await Promise.all([
      once(server, 'connection'),
      once(client, 'connect'),
    ])) as [[Socket], unknown];
    try {
      const out: number[] = [];
      const seq = new Sequencer({ holdMs: 20, idleMs: 10_000 }); // the real timers
      seq.submit('c', 1, () => out.push(1));
      seq.submit('c', 3, () => out.push(3)); // held: 2 is on its way
      // Seq 2 arrives on the socket while this turn is busy past the hold time.
      accepted.on('data', () => seq.submit('c', 2, () => out.push(2)));
      client.write('2');
      const until = Date.now() + 60;
      while (Date.now() < until); // a long turn: the timer is due before the socket is read
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(out, [1, 2, 3]);
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });
});
