// Proves, against a real server and a real closed port, the client's event subscriptions and its
// first connection: `off` stops a handler and `once` runs one once (their types follow the event
// map), `connect()` to a port nobody listens on rejects with `connect_timeout` and reports each
// failed attempt as `connect_error`, and `pending()` counts a send as soon as `send` returns.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { record, sdkTestServer } from '../test-support/sdk.js';
import { sleep, until, withTimeout } from '../test-support/wait.js';
import { ParleyApi } from './api.js';
import { createClient, type ParleyClient } from './client.js';
import { ParleyClientError } from './errors.js';
import type { ConnectErrorEvent, Message, StateEvent } from './types.js';

const PASSWORD = 'correct horse battery';
const WAIT_MS = 10_000;
const QUIET_MS = 300;

/** Compiled, never run: the event name decides the handler's payload type. */
export function eventTypeCases(client: ParleyClient): void {
  const onMessage = (m: Message) => void m.seq;
  client.on('message', onMessage);
  client.once('state', (e: StateEvent) => void e.previous);
  client.off('message', onMessage);
  client.off('message');
  client.on('connect_error', (e: ConnectErrorEvent) => void e.attempt);
  // @ts-expect-error: a message handler gets a Message, not a StateEvent
  client.on('message', (e: StateEvent) => void e);
  // @ts-expect-error: nor does once
  client.once('message', (e: StateEvent) => void e);
  // @ts-expect-error: off takes the handler type of its event too
  client.off('state', onMessage);
  // @ts-expect-error: no such event
  client.on('messages', onMessage);
}

/** A TCP port that was just free: bound, then closed, so a connection there is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('SDK client events and first connection', () => {
  const server = sdkTestServer();

  const account = async (username: string) => {
    const api = new ParleyApi({ url: server.url });
    const r = await api.register({ username, password: PASSWORD, device: `${username}-phone` });
    return { ...r, api: new ParleyApi({ url: server.url, token: r.token }) };
  };

  it('stops calling a handler removed with off, and calls a once handler once', async () => {
    const ann = await account('ev_ann');
    const ben = await account('ev_ben');
    const conversation = (await ann.api.conversations.openDirect('ev_ben')).id;
    const b = server.client({ token: ben.token, device: ben.device });
    await b.connect();
    const all = record(b, 'message');
    const kept: Message[] = [];
    const removed: Message[] = [];
    const once: Message[] = [];
    const removedHandler = (m: Message) => removed.push(m);
    b.on('message', removedHandler);
    b.once('message', (m) => once.push(m));
    b.on('message', (m) => kept.push(m));

    await ann.api.messages.send(conversation, 'ev-1', { kind: 'text', text: 'one' });
    await until(() => all.length >= 1, WAIT_MS, 'the first message arrives');
    b.off('message', removedHandler);
    await ann.api.messages.send(conversation, 'ev-2', { kind: 'text', text: 'two' });
    await ann.api.messages.send(conversation, 'ev-3', { kind: 'text', text: 'three' });
    await until(() => all.length >= 3, WAIT_MS, 'three messages arrive');
    await sleep(QUIET_MS);

    assert.deepEqual(
      kept.map((m) => m.seq),
      [1, 2, 3],
      'a handler left in place sees all',
    );
    assert.deepEqual(
      removed.map((m) => m.seq),
      [1],
      'the handler removed by off saw only the message before it',
    );
    assert.deepEqual(
      once.map((m) => m.seq),
      [1],
      'the once handler ran for the first message only',
    );
  });

  it('rejects connect() to a closed port with connect_timeout, and reports each attempt', async () => {
    const port = await closedPort();
    const client = createClient({
      url: `http://127.0.0.1:${port}`,
      token: 'pt_unused',
      device: 'phone',
      connectTimeoutMs: 1_500,
      backoffBaseMs: 50,
      backoffMaxMs: 200,
    });
    const attempts = record(client, 'connect_error');
    try {
      const error = await withTimeout(
        client.connect().then(
          () => assert.fail('connect() resolved against a closed port'),
          (err: unknown) => err,
        ),
        WAIT_MS,
        'connect() settles',
      );
      assert.ok(error instanceof ParleyClientError, 'a coded SDK error');
      assert.equal(error.code, 'connect_timeout');
      assert.equal(error.temporary, true);
      assert.ok(attempts.length >= 1, 'connect_error for the failed attempts');
      assert.deepEqual(
        attempts.map((a) => a.attempt),
        attempts.map((_, i) => i + 1),
        'attempts are counted from 1',
      );
      assert.equal(attempts[0]?.error.code, 'connect_failed');
      assert.equal(attempts[0]?.code, 1006, 'nothing answered: an abnormal close');
      assert.notEqual(client.state, 'closed', 'the client keeps trying until close()');
    } finally {
      await client.close();
    }
    assert.equal(client.state, 'closed');
  });

  it('counts a send in pending() as soon as send() returns', async () => {
    const cal = await account('ev_cal');
    await account('ev_dan');
    const conversation = (await cal.api.conversations.openDirect('ev_dan')).id;
    const c = server.client({ token: cal.token, device: cal.device });
    await c.connect();
    const sending = c.send(conversation, { kind: 'text', text: 'counted' }, { ref: 'ev-ref' });
    assert.deepEqual(
      c.pending().map((e) => e.ref),
      ['ev-ref'],
      'pending at once',
    );
    assert.equal(c.pending(conversation).length, 1);
    assert.equal(c.pending('cOther').length, 0);
    const again = c.send(conversation, { kind: 'text', text: 'counted' }, { ref: 'ev-ref' });
    assert.equal(c.pending().length, 1, 'the same ref twice is one send');
    const [sent, joined] = await Promise.all([sending, again]);
    assert.equal(joined.seq, sent.seq);
    assert.equal(c.pending().length, 0, 'acknowledged: no longer pending');
  });
});
