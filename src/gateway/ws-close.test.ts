// Proves over a real socket that nothing follows the close frame: a reader that stopped reading
// has a backlog held in the server, and when it then sends a Close, the backlog is dropped, not
// written after the server's own close frame (RFC 6455 §5.5.1).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { openRawWsPair } from '../test-support/raw-ws-transport.js';

/** The opcodes of the frames in `bytes` (server frames: unmasked), in order. */
function opcodes(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 2 <= bytes.length;) {
    const short = bytes[at + 1]! & 0x7f;
    const header = short < 126 ? 2 : short === 126 ? 4 : 10;
    const length =
      short < 126
        ? short
        : short === 126
          ? bytes.readUInt16BE(at + 2)
          : Number(bytes.readBigUInt64BE(at + 2));
    out.push(bytes[at]! & 0x0f);
    at += header + length;
  }
  return out;
}

/** A masked Close frame with code 1000, as a client sends it. */
function clientClose(): Buffer {
  const payload = Buffer.from([0x03, 0xe8]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = payload.map((b, i) => b ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, Buffer.from(masked)]);
}

describe('WebSocket close', () => {
  it('drops a backlog still held in the server once the peer closes: no frame after the close', async () => {
    const { conn, client, close } = await openRawWsPair();
    try {
      client.pause(); // a reader that stopped reading
      // Far more than loopback and the socket take, so that frames wait in the server's queue.
      const frame = JSON.stringify({ type: 'message', text: 'z'.repeat(64 * 1024) });
      for (let i = 0; i < 400; i++) conn.send(frame);
      assert.ok(conn.bufferedBytes() > 4 * 1024 * 1024, 'a backlog is held in the server');
      client.write(clientClose());
      const chunks: Buffer[] = [];
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      client.resume();
      await once(client, 'end');
      const bytes = Buffer.concat(chunks);
      const body = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
      const ops = opcodes(body);
      assert.equal(ops.at(-1), 0x8, 'the last frame is the close frame');
      assert.equal(ops.indexOf(0x8), ops.length - 1, 'nothing after the close frame');
      assert.ok(ops.length < 401, `${ops.length - 1} of 400 frames went out; the rest was dropped`);
    } finally {
      await close();
    }
  });
});
