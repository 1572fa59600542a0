import type { Codec } from '../protocol/index.js';

/**
 * The smallest socket shape the gateway needs; each transport (`*-transport.ts`) adapts its
 * socket to it, and nothing else in the gateway imports `ws` or `node:net`.
 *
 * Contract: `onBytes` delivers whole frames, in order, one call each. `onClose` fires exactly once,
 * whoever closed. After `close`, `send` is a no-op. `bufferedBytes` is what the socket has
 * accepted but not yet written: the gateway's measure of a slow reader.
 */
export interface Connection {
  readonly transport: 'ws' | 'tcp';
  readonly codec: Codec;
  /** Peer address, for logs. */
  readonly remote: string;
  send(data: string | Uint8Array): void;
  bufferedBytes(): number;
  /** Closes the link; WebSocket carries the code and reason, TCP only ends the stream. */
  close(code: number, reason: string): void;
  onBytes(handler: (data: string | Uint8Array) => void): void;
  onClose(handler: () => void): void;
}
