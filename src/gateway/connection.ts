import type { Codec } from '../protocol/index.js';

/**
 * The smallest socket shape the gateway needs; each transport (`*-transport.ts`) adapts its
 * socket to it, and nothing else in the gateway imports `ws` or `node:net`.
 *
 * Contract: `onBytes` delivers whole frames, in order, one call each. `onClose` fires exactly once,
 * whoever closed. After `close`, `send` is a no-op. `bufferedBytes` is what was sent but not yet
 * written to the network: the gateway's measure of a slow reader. `close` goes out after the
 * frames already sent, unless `instead` is given: then the frames still held in the process are
 * dropped (send-queue.ts) and `instead` goes in their place. Either way a peer that does not take
 * the close within a second is cut off. `whenDrained` calls back once the backlog is small
 * again, or the link closed. Whoever accepts the connection calls `onBytes` and `onClose` once each.
 */
export interface Connection {
  readonly transport: 'ws' | 'tcp';
  readonly codec: Codec;
  /** Peer address, for logs; read it while the link is open (after, it may be `?:?`). */
  readonly remote: string;
  send(data: string | Uint8Array): void;
  bufferedBytes(): number;
  /** Closes the link; WebSocket carries the code and reason, TCP only ends the stream. */
  close(code: number, reason: string, instead?: string | Uint8Array): void;
  whenDrained(fn: () => void): void;
  onBytes(handler: (data: string | Uint8Array) => void): void;
  onClose(handler: () => void): void;
}
