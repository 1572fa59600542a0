// Proves the SDK client's lifecycle rules against a real server: a kick (4409) closes it for good,
// a revoked token (4401) closes it or, with `refreshToken`, reconnects with a new one, `close()`
// settles what waits and keeps the outbox, and pushes delivered twice by the socket still reach
// the application once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { sdkTestServer } from '../test-support/sdk.js';
import { sleep, until, withTimeout } from '../test-support/wait.js';
import { ParleyApi } from './api.js';
import { createClient } from './client.js';
import { ParleyClientError } from './errors.js';
import { MemoryOutbox } from './outbox.js';
import type { ClientState, Message, WebSocketConstructor, WebSocketLike } from './types.js';

const PASSWORD = 'correct horse battery';
const WAIT_MS = 10_000;
const QUIET_MS = 300;

/**
 * TEST ONLY: the `ws` client, except that every `message` push it receives is handed to the SDK
 * twice, as a retransmitting network or a buggy proxy might.
 */
class DoublingWebSocket implements WebSocketLike {
  static doubled = 0;
  readonly #inner: WebSocket;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;

  constructor(url: string, protocols: string[]) {
    this.#inner = new WebSocket(url, protocols);
    this.#inner.onopen = (e) => this.onopen?.(e);
    this.#inner.onclose = (e) => this.onclose?.({ code: e.code, reason: e.reason });
    this.#inner.onerror = (e) => this.onerror?.(e);
    this.#inner.onmessage = (e) => {
      this.onmessage?.({ data: e.data });
      if (typeof e.data === 'string' && e.data.startsWith('{"type":"message"')) {
        DoublingWebSocket.doubled += 1;
        this.onmessage?.({ data: e.data });
      }
    };
  }
  get protocol() {
    return this.#inner.protocol;
  }
  get readyState() {
    return this.#inner.readyState;
  }
  get binaryType() {
    return this.#inner.binaryType;
  }
  set binaryType(value: string) {
    this.#inner.binaryType = value as 'arraybuffer';
  }
  send(data: string | Uint8Array) {
    this.#inner.send(data);
  }
  close(code?: number) {
    this.#inner.close(code);
  }
}

describe('SDK client lifecycle', () => {
  const server = sdkTestServer();

  const user = async (username: string) => {
    const api = new ParleyApi({ url: server.url });
    const r = await api.register({ username, password: PASSWORD, device: `${username}-phone` });
    return { api, ...r };
  };

  const client = (token: string, device: string, extra: object = {}) =>
    server.client({ token, device, ...extra });

  it('stops for good when a newer login of the same device kicks it (4409)', async () => {
    const u = await user('life_kick');
    const first = client(u.token, u.device);
    const states: ClientState[] = [];
    const errors: ParleyClientError[] = [];
    first.on('state', (e) => states.push(e.state));
    first.on('error', (e) => errors.push(e));
    await first.connect();
    const second = client(u.token, u.device);
    await second.connect();
    await until(() => first.state === 'closed', WAIT_MS, 'the first client closes');
    assert.deepEqual(states, ['connecting', 'online', 'closed'], 'no reconnect loop');
    assert.equal(errors.at(-1)?.code, 'kicked');
    assert.equal(second.state, 'online');
    await assert.rejects(first.connect(), { code: 'client_closed' });
    await assert.rejects(first.send('c1', { kind: 'text', text: 'x' }), { code: 'client_closed' });
  });

  it('closes on a revoked token (4401) without retrying it', async () => {
    const u = await user('life_revoked');
    const c = client(u.token, u.device);
    const states: ClientState[] = [];
    c.on('state', (e) => states.push(e.state));
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    await c.connect();
    await u.api.logout(); // revokes the token the client uses
    await until(() => c.state === 'closed', WAIT_MS, 'the client closes');
    assert.deepEqual(states, ['connecting', 'online', 'closed']);
    assert.ok(errors.includes('unauthenticated'));
  });

  it('renews a refused token through refreshToken and reconnects', async () => {
    const u = await user('life_refresh');
    let renewals = 0;
    const c = client(u.token, u.device, {
      backoffBaseMs: 20,
      backoffMaxMs: 100,
      refreshToken: async () => {
        renewals += 1;
        const again = await new ParleyApi({ url: server.url }).login({
          username: 'life_refresh',
          password: PASSWORD,
          device: u.device,
        });
        return again.token;
      },
    });
    const states: ClientState[] = [];
    c.on('state', (e) => states.push(e.state));
    await c.connect();
    await u.api.logout();
    await until(() => states.filter((s) => s === 'online').length >= 2, WAIT_MS, 'back online');
    assert.equal(renewals, 1);
    assert.notEqual(c.api.token, u.token, 'the REST side uses the renewed token too');
    assert.equal((await c.api.users.me()).user.username, 'life_refresh');
    assert.deepEqual(states, ['connecting', 'online', 'reconnecting', 'online']);
  });

  it('close() rejects the sends waiting for a link and keeps them in the outbox', async () => {
    const u = await user('life_close');
    const outbox = new MemoryOutbox();
    // Nothing listens on this port: the client keeps retrying and the send keeps waiting.
    const c = createClient({
      url: 'http://127.0.0.1:1',
      token: u.token,
      device: u.device,
      outbox,
      backoffBaseMs: 20,
      backoffMaxMs: 50,
    });
    const connecting = c.connect();
    const waiting = c.send('c-any', { kind: 'text', text: 'later' }, { ref: 'keep-me' });
    await until(() => c.state === 'reconnecting', WAIT_MS, 'retrying');
    assert.deepEqual(
      c.pending().map((e) => e.ref),
      ['keep-me'],
    );
    await c.close();
    await assert.rejects(connecting, { code: 'client_closed' });
    await assert.rejects(waiting, { code: 'client_closed' });
    assert.equal(c.state, 'closed');
    assert.deepEqual(
      (await outbox.load()).map((e) => e.ref),
      ['keep-me'],
      'still there for the next client',
    );
  });

  it('refuses a malformed send before storing it', async () => {
    const u = await user('life_bad');
    const c = client(u.token, u.device);
    await assert.rejects(c.send('', { kind: 'text', text: 'x' }), { code: 'invalid_request' });
    await assert.rejects(c.send('c1', { text: 'x' } as never), { code: 'invalid_request' });
    await assert.rejects(c.send('c1', { kind: 'text', text: 'x' }, { ref: 'r'.repeat(65) }), {
      code: 'invalid_request',
    });
    assert.deepEqual(c.pending(), []);
    assert.throws(() => createClient({ url: server.url, token: '', device: 'd' }), TypeError);
  });

  it('hands each message to the application once even when the socket delivers it twice', async () => {
    const a = await user('life_dup_a');
    const b = await user('life_dup_b');
    const conversation = (await a.api.conversations.openDirect('life_dup_b')).id;
    const receiver = client(b.token, b.device, {
      WebSocket: DoublingWebSocket as unknown as WebSocketConstructor,
    });
    const got: Message[] = [];
    receiver.on('message', (m) => got.push(m));
    await receiver.connect();
    const sender = client(a.token, a.device);
    await sender.connect();
    const COUNT = 10;
    for (let i = 0; i < COUNT; i++)
      await sender.send(conversation, { kind: 'text', text: `d${i}` });
    await until(() => got.length >= COUNT, WAIT_MS, 'all messages');
    await sleep(QUIET_MS);
    assert.equal(DoublingWebSocket.doubled, COUNT, 'the socket did deliver every push twice');
    assert.deepEqual(
      got.map((m) => m.seq),
      Array.from({ length: COUNT }, (_, i) => i + 1),
    );
  });

  it('reports a throwing handler as an error event and keeps going', async () => {
    const a = await user('life_throw_a');
    await user('life_throw_b');
    const conversation = (await a.api.conversations.openDirect('life_throw_b')).id;
    const c = client(a.token, a.device);
    const errors: ParleyClientError[] = [];
    c.on('error', (e) => errors.push(e));
    c.on('sent', () => {
      throw new Error('app bug');
    });
    await withTimeout(c.connect(), WAIT_MS, 'connect');
    const first = await c.send(conversation, { kind: 'text', text: 'one' });
    const second = await c.send(conversation, { kind: 'text', text: 'two' });
    assert.deepEqual([first.seq, second.seq], [1, 2]);
    assert.equal(errors.length, 2);
    assert.equal(errors[0]?.code, 'handler_failed');
    assert.equal((errors[0]?.cause as Error).message, 'app bug');
  });
});
