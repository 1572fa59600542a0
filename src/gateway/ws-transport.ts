import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Codec } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { SendQueue, type QueueSocket } from './send-queue.js';
import { wsFrame } from './ws-frame.js';

/** The net.Socket ws wraps (its internal `_socket` field), when there is one. */
function rawSocket(socket: WebSocket): Socket | undefined {
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  return raw ?? undefined;
}

// WebSocket at /ws on the HTTP server. The subprotocol picks the codec: `parley.v1.proto` for
// binary Protobuf frames, `parley.v1.json` (also the default when none is asked for) for text JSON.

export interface WsTransportOptions {
  readonly server: Server;
  readonly path: string;
  readonly frameBytesMax: number;
  readonly codecs: { readonly json: Codec; readonly proto: Codec };
  readonly accept: (conn: Connection) => void;
}

/** The part of ws's Receiver (its internal `_receiver`) that recycleFragments touches. */
interface FragmentsHolder {
  _fragments?: unknown[];
}

/**
 * Gives ws's receiver back the array it gathered this message's fragments in, emptied, instead of
 * the fresh one it just made; returns that array, to pass in with the next message. ws makes one
 * per message and drops the last; on an idle link the dropped one has lived a heartbeat, so it is
 * in the old generation, and the frame pushed into it (its Buffer, the chunk read from the socket)
 * was then kept by a dead old object through every scavenge until the next full GC: most of what
 * a pong left behind (BENCHMARKS.md, issue 19). Call it once the message's data is taken.
 */
function recycleFragments(socket: WebSocket, kept: unknown[] | undefined): unknown[] | undefined {
  const receiver = (socket as unknown as { _receiver?: FragmentsHolder })._receiver;
  const fresh = receiver?._fragments;
  if (!receiver || !Array.isArray(fresh)) return undefined;
  if (kept === undefined || fresh.length > 0) return fresh;
  kept.length = 0;
  receiver._fragments = kept;
  return kept;
}

/** What a Node timer has once cleared (`clearTimeout` sets it to -1). */
interface NodeTimer {
  _idleTimeout?: number;
}

/** Node's private symbol for a socket's inactivity timer (`kTimeout`), once found. */
let timerSymbol: symbol | undefined;

/**
 * Lets go of the inactivity timer the HTTP server gave this socket at accept (Fastify's
 * `connectionTimeout`, for stalled HTTP readers). ws clears it at the upgrade (`setTimeout(0)`),
 * but Node keeps the cleared Timeout and its bound callback on the socket for the link's life:
 * 168 B per idle link (BENCHMARKS.md, issue 19). Node offers no call that drops it, so it is
 * found by its symbol's description, and dropped only once cleared: a cleared timer does nothing
 * (refreshing it is a no-op), and a later `setTimeout` on the socket makes a new one.
 */
function dropClearedTimer(raw: Socket): void {
  timerSymbol ??= Object.getOwnPropertySymbols(raw).find((s) => s.description === 'timeout');
  if (timerSymbol === undefined) return;
  const slots = raw as unknown as Record<symbol, NodeTimer | null | undefined>;
  const timer = slots[timerSymbol];
  if (timer && timer._idleTimeout === -1) slots[timerSymbol] = null;
}

/** One listener shared by every link, rather than a closure each. */
const ignoreError = (): void => undefined;

/** How long a closing link may take to deliver its close before it is cut off. */
const CLOSE_GRACE_MS = 1000;

/**
 * The writers that corked their socket this tick, all uncorked by one nextTick: a closure each
 * was a fair part of what a heartbeat allocates, since a sweep pings every quiet link at once.
 */
let corkedWriters: WsWriter[] = [];

function uncorkAll(): void {
  const writers = corkedWriters;
  corkedWriters = [];
  for (const writer of writers) writer.uncork();
}

/**
 * The send queue's side of the socket, as a class: an object of two arrow functions cost every
 * link two closures, their context and the object (and, run under tsx, whose keepNames defines a
 * `name` on each arrow, 256 B more apiece): BENCHMARKS.md, issue 19.
 */
class WsWriter implements QueueSocket {
  private readonly socket: WebSocket;
  /** The socket ws wraps, when frames may be written to it whole (no extension changes framing). */
  private readonly framed: Socket | undefined;
  /** The socket this writer corked in this tick, if it did. */
  private corked: Socket | undefined;

  constructor(socket: WebSocket) {
    this.socket = socket;
    this.framed = socket.extensions === '' ? rawSocket(socket) : undefined;
  }

  write(data: string | Uint8Array): void {
    // Once ws is closing (a close frame may be written already), nothing follows it, as ws.send
    // would have dropped it too: a backlog that drains later is not owed anyone.
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.corkUntilNextTick();
    const raw = this.framed;
    if (raw !== undefined && raw.writable) raw.write(wsFrame(data));
    else this.socket.send(data);
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /**
   * Frames sent in one tick (a batch of `sent` replies, pushes of one group commit) leave in one
   * write instead of one system call each. ws writes each frame to the net.Socket it wraps; that
   * socket is reached through ws's internal `_socket` field, and without it frames go as before.
   */
  private corkUntilNextTick(): void {
    if (this.corked) return;
    const raw = rawSocket(this.socket);
    if (!raw || raw.destroyed) return;
    raw.cork();
    this.corked = raw;
    if (corkedWriters.push(this) === 1) process.nextTick(uncorkAll);
  }

  uncork(): void {
    const raw = this.corked;
    this.corked = undefined;
    raw?.uncork();
  }
}

class WsConnection implements Connection {
  readonly transport = 'ws' as const;
  readonly codec: Codec;
  private readonly socket: WebSocket;
  private readonly queue: SendQueue;
  private closeHandler: (() => void) | undefined;

  constructor(socket: WebSocket, codec: Codec) {
    this.socket = socket;
    this.codec = codec;
    // Frames are written whole (ws-frame.ts) straight to the socket ws wraps; ws's own send only
    // where that socket is not reachable or an extension (none is offered) would change framing.
    this.queue = new SendQueue(new WsWriter(socket));
    rawSocket(socket)?.on('drain', () => this.queue.drained());
    // One listener for both jobs: each `once` costs a wrapper, its state and an array slot.
    socket.on('close', () => {
      this.queue.wake();
      const handler = this.closeHandler;
      this.closeHandler = undefined;
      handler?.();
    });
  }

  /** Worked out when asked: held up front, it was three strings and an object per idle link. */
  get remote(): string {
    const raw = rawSocket(this.socket);
    return `${raw?.remoteAddress ?? '?'}:${raw?.remotePort ?? '?'}`;
  }

  send(data: string | Uint8Array): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.queue.send(data);
  }

  bufferedBytes(): number {
    return this.queue.bufferedBytes();
  }

  whenDrained(fn: () => void): void {
    if (this.socket.readyState !== this.socket.OPEN) queueMicrotask(fn);
    else this.queue.whenDrained(fn);
  }

  close(code: number, reason: string, instead?: string | Uint8Array): void {
    if (
      this.socket.readyState !== this.socket.OPEN &&
      this.socket.readyState !== this.socket.CONNECTING
    ) {
      return;
    }
    if (instead !== undefined) {
      this.queue.drop();
      this.queue.send(instead);
    }
    this.queue.closeAfterQueued(() => this.socket.close(code, reason.slice(0, 120)));
    // A peer that never answers the close handshake (a stalled reader) would otherwise hold its
    // session, its connection slot and its queued bytes for ws's 30 s close timeout.
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  onBytes(handler: (data: string | Uint8Array) => void): void {
    const binary = this.codec.binary;
    const socket = this.socket;
    let fragments: unknown[] | undefined;
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      // ws hands over a Buffer (binaryType nodebuffer): used as is, not copied.
      const buf = Array.isArray(raw)
        ? Buffer.concat(raw)
        : Buffer.isBuffer(raw)
          ? raw
          : Buffer.from(raw);
      fragments = recycleFragments(socket, fragments);
      // A JSON client may send binary frames holding UTF-8 text; a Protobuf client must send bytes.
      handler(isBinary && binary ? buf : buf.toString('utf8'));
    });
  }

  onClose(handler: () => void): void {
    this.closeHandler = handler;
  }
}

/** Attaches the WebSocket endpoint; returns a function that closes it. */
export function attachWsTransport(options: WsTransportOptions): () => Promise<void> {
  const { codecs } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.frameBytesMax,
    handleProtocols: (protocols) => {
      if (protocols.has(codecs.proto.name)) return codecs.proto.name;
      if (protocols.has(codecs.json.name)) return codecs.json.name;
      return false;
    },
  });
  wss.on('connection', (socket: WebSocket) => {
    const codec = socket.protocol === codecs.proto.name ? codecs.proto : codecs.json;
    // Errors (a bad frame, an oversize one) close the socket with their own code; nothing to add.
    socket.on('error', ignoreError);
    const raw = rawSocket(socket);
    if (raw) dropClearedTimer(raw);
    options.accept(new WsConnection(socket, codec));
  });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.server.on('upgrade', onUpgrade);
  return () =>
    new Promise<void>((resolve) => {
      options.server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    });
}
