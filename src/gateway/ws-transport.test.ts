// The WebSocket transport over a real socket: it names its peer, and a peer that goes away while
// the server holds its backlog wakes whoever waits for that backlog to drain, then reports the
// close, once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openRawWsPair } from '../test-support/raw-ws-transport.js';

describe('WebSocket transport', () => {
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
