// The WebSocket transport alone on a real server, and a client on a bare TCP socket that did the
// handshake by hand: a test can stop reading, write raw frames and read every byte the server
// sent, which a WebSocket client library does not let it do.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { jsonCodec } from '../protocol/index.js';
import { attachWsTransport, type Connection } from '../gateway/index.js';

export interface RawWsPair {
  /** The server's side of the link, once the handshake is accepted. */
  readonly conn: Connection;
  /** The client's socket, past the handshake request (its answer is still unread). */
  readonly client: Socket;
  readonly close: () => Promise<void>;
}

/** A transport on a fresh server on 127.0.0.1, and one raw client linked to it. */
export async function openRawWsPair(): Promise<RawWsPair> {
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
  const close = async (): Promise<void> => {
    client.destroy();
    await detach();
    server.close();
  };
  try {
    await once(client, 'connect');
    client.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    return { conn: await connection, client, close };
  } catch (err) {
    await close();
    throw err;
  }
}
