// A real-time link whose reading a test can pause: a raw WebSocket (JSON) or a raw TCP socket
// (length-prefixed Protobuf). It writes many frames in one write, and records every frame and the
// close, which RtClient does not let a test control at that level.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { createProtoCodec } from '../protocol/proto/index.js';
import { withTimeout } from './wait.js';

const protoCodec = createProtoCodec(
  readFileSync(new URL('../../proto/parley.proto', import.meta.url), 'utf8'),
);

export type Frame = { type: string; [key: string]: any };

export interface RawLink {
  readonly frames: Frame[];
  /** The WebSocket close code, or 0 for TCP, once the link is closed. */
  readonly closed: Promise<number>;
  /** Writes every frame in one socket write. */
  writeAll(frames: readonly Frame[]): void;
  next(match: (f: Frame) => boolean, timeoutMs: number): Promise<Frame>;
  pause(): void;
  resume(): void;
  destroy(): void;
}

/** Opens a link and says hello; resolves once welcomed. */
export async function openRawLink(
  kind: 'ws' | 'tcp',
  address: { wsUrl: string; tcpPort: number | null },
  hello: { token: string; device: string },
  timeoutMs = 5_000,
): Promise<RawLink> {
  const link = kind === 'ws' ? await rawWs(address.wsUrl) : await rawTcp(address.tcpPort!);
  link.writeAll([{ type: 'hello', id: 'hello', token: hello.token, device: hello.device }]);
  const welcome = await link.next((f) => f.id === 'hello', timeoutMs);
  if (welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
  return link;
}

function recorder(): { frames: Frame[]; got(f: Frame): void; next: RawLink['next'] } {
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  return {
    frames,
    got(f) {
      frames.push(f);
      for (const w of [...waiters]) w();
    },
    next(match, timeoutMs) {
      return withTimeout(
        new Promise<Frame>((resolve) => {
          const check = () => {
            const found = frames.find(match);
            if (!found) return;
            waiters.delete(check);
            resolve(found);
          };
          waiters.add(check);
          check();
        }),
        timeoutMs,
        'a frame on a raw link',
      );
    },
  };
}

async function rawWs(url: string): Promise<RawLink> {
  const ws = new WebSocket(url, ['parley.v1.json']);
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    void closed.then(() => reject(new Error('closed before open')));
  });
  const r = recorder();
  ws.on('message', (data: Buffer) => r.got(JSON.parse(data.toString('utf8')) as Frame));
  const raw = (ws as unknown as { _socket: Socket })._socket;
  return {
    frames: r.frames,
    closed,
    writeAll(frames) {
      raw.cork();
      for (const f of frames) ws.send(JSON.stringify(f));
      raw.uncork();
    },
    next: r.next,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    destroy: () => ws.terminate(),
  };
}

async function rawTcp(port: number): Promise<RawLink> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(0)));
  const r = recorder();
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const size = pending.readUInt32BE(0);
      r.got(protoCodec.decode(pending.subarray(4, 4 + size)));
      pending = pending.subarray(4 + size);
    }
  });
  return {
    frames: r.frames,
    closed,
    writeAll(frames) {
      const parts: Buffer[] = [];
      for (const f of frames) {
        const body = Buffer.from(protoCodec.encode(f as never));
        const header = Buffer.alloc(4);
        header.writeUInt32BE(body.length);
        parts.push(header, body);
      }
      socket.write(Buffer.concat(parts));
    },
    next: r.next,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy: () => socket.destroy(),
  };
}
