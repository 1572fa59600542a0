// The WebSocket transport over a real socket: it names its peer, and a peer that goes away while
// the server holds its backlog wakes whoever waits for that backlog to drain, then reports the
// close, once. Messages, fragmented or whole, arrive whole and in order while the receiver's
// fragment array is handed back to it after each one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openRawWsPair } from '../test-support/raw-ws-transport.js';

/** A masked client frame (RFC 6455 §5.2) with a short payload. */
function clientFrame(opcode: number, fin: boolean, payload: string): Buffer {
  const data = Buffer.from(payload);
  const mask = Buffer.from([9, 8, 7, 6]);
  const masked = data.map((b, i) => b ^ mask[i % 4]!);
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length]);
  return Buffer.concat([head, mask, Buffer.from(masked)]);
}

describe('WebSocket transport', () => {
  it('delivers whole and fragmented messages in order, reusing one fragment array', async () => {
    const { conn, client, close } = await openRawWsPair();
    try {
      // ws's internals, reached as ws-transport.ts reaches them: if they change, this says so.
      const receiver = () =>
        (conn as unknown as { socket: { _receiver: { _fragments: unknown[] } } }).socket._receiver;
      const got: (string | Uint8Array)[] = [];
      const arrays = new Set<unknown[]>();
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      conn.onBytes((data) => {
        got.push(data);
        if (got.length > 1) arrays.add(receiver()._fragments);
        if (got.length === 4) done();
      });
      client.write(clientFrame(1, true, 'one'));
      client.write(Buffer.concat([clientFrame(1, false, 'tw'), clientFrame(0, false, 'o ')]));
      await new Promise((resolve) => setTimeout(resolve, 20));
      client.write(Buffer.concat([clientFrame(0, true, 'parts'), clientFrame(1, true, 'three')]));
      client.write(clientFrame(1, true, 'four'));
      await all;
      assert.deepEqual(got, ['one', 'two parts', 'three', 'four']);
      assert.equal(arrays.size, 1, 'one array, handed back after each message');
      assert.equal(receiver()._fragments.length, 0, 'and emptied');
    } finally {
      await close();
    }
  });

  it('a peer gone while its backlog is held: drain waiters wake, then onClose fires once', async () => {
    const { conn, client, close } = await openRawWsPair();
    try {
      assert.equal(conn.remote, `127.0.0.1:${client.localPort}`, 'the peer, worked out when asked');
      client.pause();
      const events: string[] = [];
      let closed!: () => void;
      const closedOnce = new Promise<void>((resolve) => (closed = resolve));
      conn.onClose(() => {
        events.push('closed');
        closed();
      });
      const frame = JSON.stringify({ type: 'message', text: 'z'.repeat(64 * 1024) });
      for (let i = 0; i < 100; i++) conn.send(frame);
      conn.whenDrained(() => events.push('drained'));
      client.destroy();
      await closedOnce;
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(events, ['drained', 'closed']);
    } finally {
      await close();
    }
  });
});
