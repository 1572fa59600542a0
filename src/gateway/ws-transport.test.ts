// The WebSocket transport over a real socket: it names its peer, and a peer that goes away while
// the server holds its backlog wakes whoever waits for that backlog to drain, then reports the
// close, once. An upgraded link lets go of the HTTP server's cleared inactivity timer, which still
// closes sockets that did not upgrade. Messages, fragmented or whole, arrive whole and in order while the receiver's
// fragment array is handed back to it after each one.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { jsonCodec } from '../protocol/index.js';
import { openRawWsPair } from '../test-support/raw-ws-transport.js';
import type { Connection } from './connection.js';
import { attachWsTransport } from './ws-transport.js';

/** A masked client frame (RFC 6455 §5.2) with a short payload. */
function clientFrame(opcode: number, fin: boolean, payload: string): Buffer {
  const data = Buffer.from(payload);
  const mask = Buffer.from([9, 8, 7, 6]);
  const masked = data.map((b, i) => b ^ mask[i % 4]!);
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length]);
  return Buffer.concat([head, mask, Buffer.from(masked)]);
}

describe('WebSocket transport', () => {
  it('drops the cleared HTTP inactivity timer of an upgraded link; plain sockets keep theirs', async () => {
    const server = createServer();
    server.setTimeout(200); // as Fastify's connectionTimeout does
    let accepted!: (conn: Connection) => void;
    const connection = new Promise<Connection>((resolve) => (accepted = resolve));
    const detach = attachWsTransport({
      server,
      path: '/ws',
      frameBytesMax: 1024,
      codecs: { json: jsonCodec, proto: { ...jsonCodec, name: 'parley.v1.proto', binary: true } },
      accept: (conn) => accepted(conn),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const client = connect(port, '127.0.0.1');
    const plain = connect(port, '127.0.0.1');
    try {
      client.write(
        'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      const conn = await connection;
      const raw = (conn as unknown as { socket: { _socket: Socket } }).socket._socket;
      const symbol = Object.getOwnPropertySymbols(raw).find((s) => s.description === 'timeout');
      assert.ok(symbol, "Node's timer slot is where ws-transport.ts looks for it");
      assert.equal((raw as unknown as Record<symbol, unknown>)[symbol], null);
      let linkClosed = false;
      conn.onClose(() => (linkClosed = true));
      await once(plain, 'close'); // the idle plain socket is closed by its timer
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(linkClosed, false, 'the idle upgraded link is not');
    } finally {
      plain.destroy();
      client.destroy();
      await detach();
      server.close();
    }
  });

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
