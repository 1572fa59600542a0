// A connection's outgoing frames, held in the process only while its socket is full.
//
// Frames go straight to the socket while it holds less than SOCKET_BYTES_MAX unsent bytes (the
// usual case: one comparison). Past that they wait here, and are handed over as the socket
// drains. Keeping the backlog here rather than in the socket's own buffer is what lets a close
// jump it: a slow reader's queue is dropped and its 4503 written at once, behind at most
// SOCKET_BYTES_MAX, instead of behind everything it did not read (docs/protocol.md,
// Backpressure). Both transports use it; the socket itself is theirs.

/** Unsent bytes the socket may hold before frames wait here instead. */
export const SOCKET_BYTES_MAX = 64 * 1024;

export interface QueueSocket {
  /** Hands one frame to the socket. */
  write(data: string | Uint8Array): void;
  /** What the socket holds unsent. */
  bufferedBytes(): number;
}

/**
 * What every queue with nothing waiting holds instead of an empty array of its own (16 B each,
 * and most links never queue: BENCHMARKS.md, issue 19). Frozen: a push into it would throw.
 */
const NONE = Object.freeze([]) as unknown as never[];

export class SendQueue {
  private readonly socket: QueueSocket;
  private frames: (string | Uint8Array)[] = NONE;
  private head = 0;
  private bytes = 0;
  private closeWhenEmpty: (() => void) | null = null;
  private waiters: (() => void)[] = NONE;

  constructor(socket: QueueSocket) {
    this.socket = socket;
  }

  /** Bytes waiting here plus what the socket holds: the connection's whole backlog. */
  bufferedBytes(): number {
    return this.bytes + this.socket.bufferedBytes();
  }

  send(data: string | Uint8Array): void {
    if (this.head === this.frames.length && this.socket.bufferedBytes() < SOCKET_BYTES_MAX) {
      this.socket.write(data);
      return;
    }
    if (this.frames === NONE) this.frames = [];
    this.frames.push(data);
    this.bytes += typeof data === 'string' ? data.length : data.byteLength;
  }

  /** The socket drained (its 'drain' event): hands over what fits, then wakes who waits. */
  drained(): void {
    while (this.head < this.frames.length && this.socket.bufferedBytes() < SOCKET_BYTES_MAX) {
      const data = this.frames[this.head]!;
      this.frames[this.head++] = '';
      this.bytes -= typeof data === 'string' ? data.length : data.byteLength;
      this.socket.write(data);
    }
    if (this.head < this.frames.length) {
      // A link that stays busy never empties its queue: drop the handed-over head now and then,
      // so the array holds what waits, not everything that ever waited.
      if (this.head >= 1024 && this.head * 2 >= this.frames.length) {
        this.frames = this.frames.slice(this.head);
        this.head = 0;
      }
      return;
    }
    this.frames = NONE;
    this.head = 0;
    const close = this.closeWhenEmpty;
    this.closeWhenEmpty = null;
    close?.();
    if (this.socket.bufferedBytes() < SOCKET_BYTES_MAX) this.wake();
  }

  /** Runs `close` once every queued frame is handed to the socket (at once when none waits). */
  closeAfterQueued(close: () => void): void {
    if (this.head === this.frames.length) close();
    else this.closeWhenEmpty = close;
  }

  /** Forgets every queued frame: the reader is too slow to be owed them. */
  drop(): void {
    this.frames = NONE;
    this.head = 0;
    this.bytes = 0;
  }

  /** Calls `fn` once the backlog is under SOCKET_BYTES_MAX (soon, if it already is). */
  whenDrained(fn: () => void): void {
    if (this.head === this.frames.length && this.socket.bufferedBytes() < SOCKET_BYTES_MAX) {
      queueMicrotask(fn);
    } else {
      if (this.waiters === NONE) this.waiters = [];
      this.waiters.push(fn);
    }
  }

  /** Wakes waiters, e.g. when the link closes and nothing will drain any more. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = NONE;
    for (const fn of waiters) fn();
  }
}
