// SendQueue: frames go straight to a socket with room, wait in order while it is full, leave
// as it drains; a close waits for them unless they are dropped; a link that never empties its
// queue does not keep every frame it ever held.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SOCKET_BYTES_MAX, SendQueue } from './send-queue.js';

/** A socket that holds what it is handed until the test lets it write some out. */
class HeldSocket {
  readonly written: string[] = [];
  held = 0;
  write(data: string | Uint8Array): void {
    this.written.push(String(data));
    this.held += typeof data === 'string' ? data.length : data.byteLength;
  }
  bufferedBytes(): number {
    return this.held;
  }
}

describe('SendQueue', () => {
  it('queues past the socket bound in order, hands over on drain, then closes', () => {
    const socket = new HeldSocket();
    const queue = new SendQueue(socket);
    const big = 'x'.repeat(SOCKET_BYTES_MAX);
    queue.send(big);
    queue.send('a');
    queue.send('b');
    assert.equal(socket.written.length, 1);
    assert.equal(queue.bufferedBytes(), SOCKET_BYTES_MAX + 2);
    let closed = false;
    queue.closeAfterQueued(() => (closed = true));
    assert.equal(closed, false, 'the close waits for the queued frames');
    socket.held = 0;
    queue.drained();
    assert.deepEqual(socket.written.slice(1), ['a', 'b']);
    assert.equal(closed, true);
  });

  it('drop forgets what waits, so a close goes out at once', () => {
    const socket = new HeldSocket();
    const queue = new SendQueue(socket);
    queue.send('y'.repeat(SOCKET_BYTES_MAX));
    for (let i = 0; i < 100; i++) queue.send(`q${i}`);
    queue.drop();
    queue.send('farewell');
    let closed = false;
    queue.closeAfterQueued(() => (closed = true));
    socket.held = 0;
    queue.drained();
    assert.deepEqual(socket.written.slice(1), ['farewell']);
    assert.equal(closed, true);
  });

  it('a queue that never empties keeps only what still waits', () => {
    const socket = new HeldSocket();
    const queue = new SendQueue(socket);
    queue.send('z'.repeat(SOCKET_BYTES_MAX));
    for (let i = 0; i < 10; i++) queue.send(`w${i}`);
    for (let i = 0; i < 20_000; i++) {
      queue.send(`f${i}`);
      // The socket writes one frame's worth out, then drains: one frame leaves per frame added,
      // and the queue never empties.
      socket.held = SOCKET_BYTES_MAX - 1;
      queue.drained();
    }
    const frames = (queue as unknown as { frames: unknown[] }).frames;
    assert.ok(frames.length < 4096, `the queue's array holds ${frames.length} entries`);
  });
});
