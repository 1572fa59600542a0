// Proves against a real server, with each codec, that cutting the client's sockets in the middle
// of 200 sends loses and doubles nothing: every send promise resolves, with dense seqs in send
// order, the server stores each message once, and the peer (cut too) gets each once, in order.
// And that the client finds a silent, half-open link by its own heartbeat and recovers.
import assert from 'node:assert/strict';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { sleep, until, withTimeout } from '../test-support/wait.js';
import { ParleyApi } from './api.js';
import { createClient, type ParleyClient } from './client.js';
import type { ChangedEvent, ClientState, CodecName, Message, SentMessage } from './types.js';
import type { Body } from './body.js';

/** The text of a text body, else undefined: the SDK's bodies are a union by `kind`. */
const textOf = (b: Body | undefined | null) => (b?.kind === 'text' ? b.text : undefined);

const PASSWORD = 'correct horse battery';
const SENDS = 200;
/** The cut comes after this many acknowledgements, with the rest queued or in flight. */
const CUT_AFTER_ACKED = 70;
const WAIT_MS = 60_000;
const QUIET_MS = 500;
const HISTORY_PAGES_MAX = 10;

/**
 * A TCP proxy in front of the server. `cut()` destroys every connection through it at once, as
 * a network failure or a server-side reset would; the sockets see an abrupt end, no close frame.
 */
class CuttingProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  cuts = 0;
  /** While set, a new connection is closed at once: the network is down. */
  down = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<CuttingProxy> {
    const server = createServer();
    const proxy = new CuttingProxy(server);
    server.on('connection', (inbound) => {
      if (proxy.down) {
        inbound.destroy();
        return;
      }
      const outbound = tcpConnect(targetPort, '127.0.0.1');
      const pair: [Socket, Socket] = [inbound, outbound];
      proxy.#pairs.add(pair);
      const end = () => {
        inbound.destroy();
        outbound.destroy();
        proxy.#pairs.delete(pair);
      };
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  cut(): number {
    const count = this.#pairs.size;
    for (const [a, b] of [...this.#pairs]) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
    this.cuts += 1;
    return count;
  }

  /** Stops forwarding on every current connection without closing it: a half-open link. */
  freeze(): number {
    for (const [a, b] of this.#pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
    }
    return this.#pairs.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

for (const codec of ['json', 'proto'] as const satisfies readonly CodecName[]) {
  describe(`SDK client over ${codec}: a reconnect in the middle of ${SENDS} sends`, () => {
    let server: TestServer;
    let proxy: CuttingProxy;
    const clients: ParleyClient[] = [];

    before(async () => {
      server = await startTestServer();
      proxy = await CuttingProxy.start(server.port);
    });

    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await proxy.close();
      await server.close();
    });

    it('delivers each message exactly once and in order, and resolves every send once', async () => {
      const aliceApi = new ParleyApi({ url: server.url });
      const alice = await aliceApi.register({ username: `rc_alice_${codec}`, password: PASSWORD });
      const bobApi = new ParleyApi({ url: server.url });
      const bob = await bobApi.register({ username: `rc_bob_${codec}`, password: PASSWORD });
      const conversation = (await aliceApi.conversations.openDirect(bob.user.username)).id;

      const options = { url: proxy.url, codec, backoffBaseMs: 50, backoffMaxMs: 300 };
      const sender = createClient({ ...options, token: alice.token, device: alice.device });
      const receiver = createClient({ ...options, token: bob.token, device: bob.device });
      clients.push(sender, receiver);
      const senderStates: ClientState[] = [];
      const receiverStates: ClientState[] = [];
      sender.on('state', (e) => senderStates.push(e.state));
      receiver.on('state', (e) => receiverStates.push(e.state));
      const received: Message[] = [];
      receiver.on('message', (m) => received.push(m));
      const sentEvents: SentMessage[] = [];
      sender.on('sent', (m) => sentEvents.push(m));
      await withTimeout(Promise.all([sender.connect(), receiver.connect()]), 10_000, 'connect');

      const resolutions = new Array<number>(SENDS).fill(0);
      let acked = 0;
      const sends = Array.from({ length: SENDS }, (_, i) =>
        sender.send(conversation, { kind: 'text', text: `msg ${i}` }).then((m) => {
          resolutions[i] = (resolutions[i] ?? 0) + 1;
          acked += 1;
          return m;
        }),
      );
      await until(() => acked >= CUT_AFTER_ACKED, WAIT_MS, `${CUT_AFTER_ACKED} acks`);
      const unackedAtCut = sender.pending().length;
      const linksCut = proxy.cut();
      assert.ok(unackedAtCut > 0, 'the cut came with sends still unacknowledged');
      assert.equal(linksCut, 2, 'both clients’ links were cut');

      const results = await withTimeout(Promise.all(sends), WAIT_MS, 'every send resolves');
      assert.deepEqual(resolutions, new Array<number>(SENDS).fill(1), 'each promise once');
      const first = results[0]!.seq;
      assert.deepEqual(
        results.map((m) => m.seq),
        results.map((_, i) => first + i),
        'dense seqs in send order',
      );
      assert.equal(new Set(results.map((m) => m.id)).size, SENDS, 'distinct message ids');
      assert.equal(sentEvents.length, SENDS, 'one `sent` event per message');
      assert.deepEqual(sender.pending(), [], 'the outbox is empty');
      assert.ok(senderStates.includes('reconnecting'), 'the sender reconnected');
      assert.equal(senderStates.at(-1), 'online');
      assert.ok(receiverStates.includes('reconnecting'), 'the receiver reconnected');

      await until(() => received.length >= SENDS, WAIT_MS, 'the peer gets every message');
      await sleep(QUIET_MS);
      assert.equal(received.length, SENDS, 'no message reached the peer twice');
      assert.deepEqual(
        received.map((m) => textOf(m.body)),
        results.map((_, i) => `msg ${i}`),
        'the peer sees them in send order',
      );
      assert.deepEqual(
        received.map((m) => m.seq),
        results.map((m) => m.seq),
      );

      // The store holds each message once: page through the whole history over REST.
      const stored: string[] = [];
      let afterSeq = 0;
      for (let page = 0; page < HISTORY_PAGES_MAX; page++) {
        const p = await bobApi.messages.history(conversation, { after: afterSeq, limit: 100 });
        stored.push(...p.messages.map((m) => String(textOf(m.body))));
        afterSeq = p.messages.at(-1)?.seq ?? afterSeq;
        if (!p.hasMore) break;
      }
      assert.equal(stored.length, SENDS);
      assert.equal(new Set(stored).size, SENDS, 'no text stored twice');
    });

    it('reports the messages it holds that changed while it was away, once back', async () => {
      // Alice acts over REST only; Bob's client goes through the proxy.
      const aliceApi = new ParleyApi({ url: server.url });
      await aliceApi.register({ username: `ch_alice_${codec}`, password: PASSWORD });
      const bob = await new ParleyApi({ url: server.url }).register({
        username: `ch_bob_${codec}`,
        password: PASSWORD,
      });
      const conversation = (await aliceApi.conversations.openDirect(bob.user.username)).id;
      const receiver = createClient({
        url: proxy.url,
        codec,
        backoffBaseMs: 50,
        backoffMaxMs: 300,
        token: bob.token,
        device: bob.device,
      });
      clients.push(receiver);
      const received: Message[] = [];
      receiver.on('message', (m) => received.push(m));
      const changed: ChangedEvent[] = [];
      receiver.on('changed', (e) => changed.push(e));
      const live: unknown[] = [];
      for (const event of ['recalled', 'edited', 'reaction'] as const) {
        receiver.on(event, (e) => live.push(e));
      }
      let syncs = 0;
      receiver.on('synced', () => (syncs += 1));
      await withTimeout(receiver.connect(), 10_000, 'connect');
      const text = (t: string) => ({ kind: 'text', text: t }) as const;
      for (const t of ['one', 'two', 'three']) {
        await aliceApi.messages.send(conversation, `ch-${t}`, text(t));
      }
      await until(() => received.length >= 3 && syncs >= 1, WAIT_MS, 'bob holds all three');

      proxy.down = true;
      proxy.cut();
      await aliceApi.messages.edit(conversation, 1, text('one, edited'));
      await aliceApi.messages.recall(conversation, 2);
      await aliceApi.messages.react(conversation, 3, '👍');
      proxy.down = false;

      await until(() => changed.length >= 1, WAIT_MS, 'the changes, after the reconnect');
      assert.equal(changed.length, 1, 'one event for the conversation');
      const [event] = changed;
      assert.equal(event!.conversation, conversation);
      assert.equal(event!.more, false);
      assert.deepEqual(
        event!.messages.map((m) => [m.seq, m.body, m.recalled, m.reactions.length]),
        [
          [1, text('one, edited'), false, 0],
          [2, { kind: 'recalled' }, true, 0],
          [3, text('three'), false, 1],
        ],
      );
      assert.ok(event!.messages[0]!.editedAt !== null);
      assert.deepEqual(live, [], 'the pushes were lost with the link');
      await sleep(QUIET_MS);
      assert.equal(received.length, 3, 'no message was delivered again');
    });
  });
}

describe('SDK client: a half-open link', () => {
  it('is found by the client’s own heartbeat, replaced, and caught up', async () => {
    const server = await startTestServer();
    const proxy = await CuttingProxy.start(server.port);
    const clients: ParleyClient[] = [];
    try {
      const aliceApi = new ParleyApi({ url: server.url });
      await aliceApi.register({ username: 'ho_alice', password: PASSWORD });
      const bobApi = new ParleyApi({ url: server.url });
      const bob = await bobApi.register({ username: 'ho_bob', password: PASSWORD });
      const conversation = (await aliceApi.conversations.openDirect('ho_bob')).id;
      const HEARTBEAT_MS = 200;
      const receiver = createClient({
        url: proxy.url,
        token: bob.token,
        device: bob.device,
        heartbeatMs: HEARTBEAT_MS,
        backoffBaseMs: 20,
        backoffMaxMs: 100,
      });
      clients.push(receiver);
      const states: ClientState[] = [];
      receiver.on('state', (e) => states.push(e.state));
      const received: Message[] = [];
      receiver.on('message', (m) => received.push(m));
      await receiver.connect();
      await sleep(QUIET_MS); // the first catch-up is done

      assert.equal(proxy.freeze(), 1);
      const frozenAt = Date.now();
      for (let i = 0; i < 5; i++) {
        await aliceApi.messages.send(conversation, `ho-${i}`, { kind: 'text', text: `ho ${i}` });
      }
      await until(() => received.length >= 5, 10_000, 'the messages after the freeze');
      const detectedAfterMs = Date.now() - frozenAt;
      await sleep(QUIET_MS);
      assert.deepEqual(
        received.map((m) => textOf(m.body)),
        ['ho 0', 'ho 1', 'ho 2', 'ho 3', 'ho 4'],
      );
      assert.deepEqual(states, ['connecting', 'online', 'reconnecting', 'online']);
      // Quiet for a heartbeat, then a ping unanswered for another: well under the server's 60 s.
      assert.ok(detectedAfterMs < 10 * HEARTBEAT_MS, `recovered after ${detectedAfterMs} ms`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await proxy.close();
      await server.close();
    }
  });
});
