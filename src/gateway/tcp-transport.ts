import { createServer, type Server, type Socket } from 'node:net';
import { CloseCode, type Codec } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { SendQueue } from './send-queue.js';

// TCP: a stream of frames, each a 4-byte big-endian length followed by that many bytes of one
// Protobuf Frame. There are no close codes: the server sends an `error` frame, then ends.

export interface TcpTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly frameBytesMax: number;
  readonly codec: Codec;
  readonly accept: (conn: Connection) => void;
}

const HEADER_BYTES = 4;
/** How long a closing link may take to deliver what it is owed before it is cut off. */
const CLOSE_GRACE_MS = 1000;

class TcpConnection implements Connection {
  readonly transport = 'tcp' as const;
  readonly codec: Codec;
  private readonly socket: Socket;
  private readonly frameBytesMax: number;
  private pending: Buffer = Buffer.alloc(0);
  private readonly queue: SendQueue;

  constructor(socket: Socket, codec: Codec, frameBytesMax: number) {
    this.socket = socket;
    this.codec = codec;
    this.frameBytesMax = frameBytesMax;
    this.queue = new SendQueue({
      write: (data) => this.write(data),
      bufferedBytes: () => socket.writableLength,
    });
    socket.on('drain', () => this.queue.drained());
    socket.once('close', () => this.queue.wake());
  }

  /** Worked out when asked, as on WebSocket: most links never log their peer. */
  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  send(data: string | Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.queue.send(data);
  }

  /** One frame: its 4-byte length, then its bytes, in one write. */
  private write(data: string | Uint8Array): void {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32BE(body.byteLength);
    this.socket.cork();
    this.socket.write(header);
    this.socket.write(body);
    this.socket.uncork();
  }

  bufferedBytes(): number {
    return this.queue.bufferedBytes();
  }

  whenDrained(fn: () => void): void {
    if (this.socket.destroyed || this.socket.writableEnded) queueMicrotask(fn);
    else this.queue.whenDrained(fn);
  }

  close(_code: number, _reason: string, instead?: string | Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (instead !== undefined) {
      this.queue.drop();
      this.queue.send(instead);
    }
    this.queue.closeAfterQueued(() => this.socket.end());
    // A peer that never reads would keep the socket half-open; do not wait on it for long.
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  onBytes(handler: (data: string | Uint8Array) => void): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= HEADER_BYTES) {
        const size = this.pending.readUInt32BE(0);
        if (size > this.frameBytesMax) {
          // Nothing after an oversize length can be trusted to be a frame boundary: say why, end.
          this.pending = Buffer.alloc(0);
          this.socket.removeAllListeners('data');
          this.send(
            this.codec.encode({
              type: 'error',
              code: 'frame_too_large',
              message: `A frame is at most ${this.frameBytesMax} bytes.`,
            }),
          );
          this.close(CloseCode.badFrame, 'frame too large');
          return;
        }
        if (this.pending.length < HEADER_BYTES + size) break;
        const frame = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
        this.pending = this.pending.subarray(HEADER_BYTES + size);
        handler(frame);
      }
    });
  }

  onClose(handler: () => void): void {
    this.socket.once('close', handler);
  }
}

export interface TcpListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenTcpTransport(options: TcpTransportOptions): Promise<TcpListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    options.accept(new TcpConnection(socket, options.codec, options.frameBytesMax));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
