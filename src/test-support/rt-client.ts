// A real-time protocol client for tests, over a real socket: WebSocket with the JSON or the
// Protobuf codec, or TCP with length-prefixed Protobuf frames. It records every frame it gets
// and lets a test wait for one with a bounded timeout.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { jsonCodec, type Codec } from '../protocol/index.js';
import { createProtoCodec } from '../protocol/proto/index.js';

export type Transport = 'ws-json' | 'ws-proto' | 'tcp';
export const TRANSPORTS: readonly Transport[] = ['ws-json', 'ws-proto', 'tcp'];

const protoCodec = createProtoCodec(
  readFileSync(new URL('../../proto/parley.proto', import.meta.url), 'utf8'),
);

export interface ServerAddress {
  readonly wsUrl: string;
  readonly tcpPort: number | null;
}

type Frame = { type: string; [key: string]: any };

export class RtClient {
  readonly transport: Transport;
  readonly codec: Codec;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Resolves with the close code (WebSocket) or 0 (TCP) when the link closes. */
  readonly closed: Promise<number>;
  private readonly writeRaw: (data: string | Uint8Array) => void;
  private readonly end: () => void;
  private readonly waiters = new Set<() => void>();
  private nextId = 1;
  isClosed = false;

  private constructor(
    transport: Transport,
    codec: Codec,
    writeRaw: (data: string | Uint8Array) => void,
    end: () => void,
    closed: Promise<number>,
  ) {
    this.transport = transport;
    this.codec = codec;
    this.writeRaw = writeRaw;
    this.end = end;
    this.closed = closed.then((code) => {
      this.isClosed = true;
      this.wake();
      return code;
    });
  }

  /** Opens a link (no hello yet). */
  static async open(server: ServerAddress, transport: Transport): Promise<RtClient> {
    if (transport === 'tcp') {
      if (server.tcpPort === null) throw new Error('the server has no TCP port');
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = tcpConnect(server.tcpPort!, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
      socket.on('error', () => undefined);
      let closedResolve!: (code: number) => void;
      const closed = new Promise<number>((r) => (closedResolve = r));
      socket.once('close', () => closedResolve(0));
      const client = new RtClient(
        'tcp',
        protoCodec,
        (data) => {
          const body = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
          const header = Buffer.alloc(4);
          header.writeUInt32BE(body.length);
          socket.write(Buffer.concat([header, body]));
        },
        () => socket.destroy(),
        closed,
      );
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
          const size = pending.readUInt32BE(0);
          client.receive(pending.subarray(4, 4 + size));
          pending = pending.subarray(4 + size);
        }
      });
      return client;
    }
    const codec = transport === 'ws-proto' ? protoCodec : jsonCodec;
    const ws = new WebSocket(server.wsUrl, [codec.name]);
    ws.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
      void closed.then(() => reject(new Error('closed before open')));
    });
    const client = new RtClient(
      transport,
      codec,
      (data) => ws.send(data),
      () => ws.terminate(),
      closed,
    );
    ws.on('message', (raw: Buffer, isBinary: boolean) =>
      client.receive(isBinary ? new Uint8Array(raw) : raw.toString('utf8')),
    );
    return client;
  }

  /** Opens a link and says hello; resolves with the welcome frame. */
  static async connect(
    server: ServerAddress,
    transport: Transport,
    token: string,
    device: string,
  ): Promise<RtClient> {
    const client = await RtClient.open(server, transport);
    const welcome = await client.request({ type: 'hello', token, device });
    if (welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
    return client;
  }

  /** Sends a frame as is (it is encoded with this link's codec). */
  send(frame: Frame): void {
    this.writeRaw(this.codec.encode(frame as never));
  }

  /** Sends raw bytes, bypassing the codec (for garbage and oversize tests). */
  sendRaw(data: string | Uint8Array): void {
    this.writeRaw(data);
  }

  /** Sends a frame with a fresh id and resolves with the reply (or error) that echoes it. */
  async request(frame: Frame, timeoutMs = 5000): Promise<Frame> {
    const id = `t${this.nextId++}`;
    const from = this.frames.length;
    this.send({ ...frame, id });
    return this.waitFor((f) => f.id === id, { timeoutMs, from });
  }

  /**
   * Resolves with the first frame (from index `from`, default: any received so far) that matches.
   * Rejects after `timeoutMs` or when the link closes first.
   */
  waitFor(
    match: (f: Frame) => boolean,
    options: { timeoutMs?: number; from?: number } = {},
  ): Promise<Frame> {
    const { timeoutMs = 5000, from = 0 } = options;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.frames.slice(from).find(match);
        if (found) {
          finish();
          resolve(found);
          return true;
        }
        if (this.isClosed) {
          finish();
          reject(new Error(`link closed while waiting (got ${this.types().join(',')})`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for a frame (got ${this.types().join(',')})`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = () => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Waits until `count` frames of this type have arrived; returns them. */
  async waitForCount(type: string, count: number, timeoutMs = 10_000): Promise<Frame[]> {
    await this.waitFor(() => this.ofType(type).length >= count, { timeoutMs });
    return this.ofType(type);
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  types(): string[] {
    return this.frames.map((f) => f.type);
  }

  /** Closes the link abruptly, without a close handshake (like a lost network). */
  drop(): void {
    this.end();
  }

  private receive(data: string | Uint8Array): void {
    this.frames.push(this.codec.decode(data));
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
