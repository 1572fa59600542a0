// The WebSocket transport over a real socket: it names its peer, and a peer that goes away while
// the server holds its backlog wakes whoever waits for that backlog to drain, then reports the
// close, once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { jsonCodec } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { attachWsTransport } from './ws-transport.js';

describe('WebSocket transport', () => {
  it('a peer gone while its backlog is held: drain waiters wake, then onClose fires once', async () => {
    const server = createServer();
    let accepted!: (conn: Connection) => void;
    const connection = new Promise<Connection>((resolve) => (accepted = resolve));
    const detach = attachWsTransport({
      server,
      path: '/ws',
      frameBytesMax: 1 << 20,
      codecs: { json: jsonCodec, proto: { ...jsonCodec, name: 'parley.v1.proto', binary: true } },
      accept: (conn) => accepted(conn),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      await once(client, 'connect');
      client.write(
        'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      const conn = await connection;
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
      client.destroy();
      await detach();
      server.close();
    }
  });
});
