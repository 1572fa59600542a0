// Proves that the SDK's outbox survives a restart of the real server process (SIGKILL in the
// middle of a stream of sends, more sends while it is down, a start on the same SQLite data
// directory and port): every send is acknowledged once and delivered once, in order. And that a
// FileOutbox carries unsent messages across a restart of the client itself.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  cleanupServeProcesses,
  freshDir,
  killServeProcess,
  startServeProcess,
} from '../test-support/serve-process.js';
import { sleep, until, withTimeout } from '../test-support/wait.js';
import { ParleyApi } from './api.js';
import { createClient, type ParleyClient } from './client.js';
import { ParleyClientError } from './errors.js';
import { FileOutbox } from './file-outbox.js';
import type { Message, SentMessage } from './types.js';
import type { Body } from './body.js';

/** The text of a text body, else undefined: the SDK's bodies are a union by `kind`. */
const textOf = (b: Body | undefined | null) => (b?.kind === 'text' ? b.text : undefined);

const WAIT_MS = 30_000;
const QUIET_MS = 500;
const PASSWORD = 'correct horse battery';

const clients: ParleyClient[] = [];

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cleanupServeProcesses();
});

async function twoUsers(url: string, tag: string) {
  const aliceApi = new ParleyApi({ url });
  const alice = await aliceApi.register({ username: `${tag}_alice`, password: PASSWORD });
  const bobApi = new ParleyApi({ url });
  const bob = await bobApi.register({ username: `${tag}_bob`, password: PASSWORD });
  const conversation = (await aliceApi.conversations.openDirect(`${tag}_bob`)).id;
  return { alice, bob, bobApi, conversation };
}

describe('SDK outbox across restarts', () => {
  it('survives a SIGKILL and restart of the server: each send acknowledged and delivered once', async () => {
    const dataDir = freshDir('parley-sdk-restart-');
    let server = await startServeProcess(dataDir);
    const port = server.port;
    const { alice, bob, bobApi, conversation } = await twoUsers(server.url, 'rs');
    const options = { url: server.url, backoffBaseMs: 100, backoffMaxMs: 500 };
    const sender = createClient({ ...options, token: alice.token, device: alice.device });
    const receiver = createClient({ ...options, token: bob.token, device: bob.device });
    clients.push(sender, receiver);
    const received: Message[] = [];
    receiver.on('message', (m) => received.push(m));
    const sentEvents: SentMessage[] = [];
    sender.on('sent', (m) => sentEvents.push(m));
    await withTimeout(Promise.all([sender.connect(), receiver.connect()]), 10_000, 'connect');

    const send = (i: number) => sender.send(conversation, { kind: 'text', text: `r ${i}` });
    // A first stream, with the server killed while it is still being acknowledged.
    const BEFORE = 150;
    let acked = 0;
    const sends = Array.from({ length: BEFORE }, (_, i) => send(i).finally(() => (acked += 1)));
    await until(() => acked >= 20, WAIT_MS, '20 acks');
    const unackedAtKill = sender.pending().length;
    await killServeProcess(server);
    await until(() => sender.state === 'reconnecting', WAIT_MS, 'the sender notices');

    // More sends while the server is down: they wait in the outbox.
    const DOWN = 40;
    for (let i = BEFORE; i < BEFORE + DOWN; i++) sends.push(send(i));
    await sleep(300);
    assert.ok(sender.pending().length >= DOWN, 'the sends made while down wait in the outbox');
    assert.notEqual(sender.state, 'online');

    server = await startServeProcess(dataDir, { PARLEY_PORT: String(port) });
    const results = await withTimeout(Promise.all(sends), WAIT_MS, 'every send resolves');
    const total = BEFORE + DOWN;
    assert.ok(unackedAtKill > 0, 'the kill came with sends unacknowledged');
    assert.equal(results.length, total);
    assert.deepEqual(
      results.map((m) => m.seq),
      results.map((_, i) => i + 1),
      'dense seqs in send order',
    );
    assert.equal(sentEvents.length, total, 'one `sent` event per message');
    assert.deepEqual(sender.pending(), []);

    await until(() => received.length >= total, WAIT_MS, 'the peer gets every message');
    await sleep(QUIET_MS);
    assert.equal(received.length, total, 'no message reached the peer twice');
    assert.deepEqual(
      received.map((m) => textOf(m.body)),
      results.map((_, i) => `r ${i}`),
    );

    const stored: string[] = [];
    for (let pages = 0, afterSeq = 0; pages < 10; pages++) {
      const page = await bobApi.messages.history(conversation, { after: afterSeq, limit: 100 });
      stored.push(...page.messages.map((m) => String(textOf(m.body))));
      afterSeq = page.messages.at(-1)?.seq ?? afterSeq;
      if (!page.hasMore) break;
    }
    assert.equal(stored.length, total, 'the store holds each message once');
    assert.equal(new Set(stored).size, total);
    await killServeProcess(server);
  });

  it('keeps unsent messages in a FileOutbox across a restart of the client', async () => {
    const dataDir = freshDir('parley-sdk-client-restart-');
    const outboxPath = join(freshDir('parley-sdk-outbox-'), 'outbox.jsonl');
    let server = await startServeProcess(dataDir);
    const port = server.port;
    const { alice, bob, conversation } = await twoUsers(server.url, 'cr');
    const options = { url: server.url, backoffBaseMs: 100, backoffMaxMs: 500 };
    const receiver = createClient({ ...options, token: bob.token, device: bob.device });
    clients.push(receiver);
    const received: Message[] = [];
    receiver.on('message', (m) => received.push(m));
    await receiver.connect();

    // The first client instance: connected, then the server goes, then it sends and quits.
    const first = createClient({
      ...options,
      token: alice.token,
      device: alice.device,
      outbox: new FileOutbox({ path: outboxPath }),
    });
    clients.push(first);
    await first.connect();
    await first.send(conversation, { kind: 'text', text: 'before' });
    await killServeProcess(server);
    await until(() => first.state === 'reconnecting', WAIT_MS, 'the first client notices');
    const COUNT = 10;
    const doomed = Array.from({ length: COUNT }, (_, i) =>
      first.send(conversation, { kind: 'text', text: `offline ${i}` }),
    );
    // Handled at once: close() rejects them while it waits for the storage to finish writing.
    const outcomes = doomed.map((p) =>
      p.then(
        () => 'resolved',
        (err: unknown) => (err instanceof ParleyClientError ? err.code : String(err)),
      ),
    );
    assert.equal(first.pending().length, COUNT, 'pending as soon as sent');
    const refs = first.pending().map((e) => e.ref);
    await first.close(); // resolves once the outbox storage has written every staged send
    assert.deepEqual(await Promise.all(outcomes), Array<string>(COUNT).fill('client_closed'));

    // A new process would do exactly this: a new client on the same outbox file.
    server = await startServeProcess(dataDir, { PARLEY_PORT: String(port) });
    const second = createClient({
      ...options,
      token: alice.token,
      device: alice.device,
      outbox: new FileOutbox({ path: outboxPath }),
    });
    clients.push(second);
    const sent: SentMessage[] = [];
    second.on('sent', (m) => sent.push(m));
    await second.connect();
    assert.deepEqual(
      second.pending().map((e) => e.ref),
      refs.filter((r) => !sent.some((m) => m.ref === r)),
      'the new client loaded the outbox in order',
    );
    await until(() => sent.length >= COUNT, WAIT_MS, 'the restored sends are acknowledged');
    assert.deepEqual(
      sent.map((m) => m.ref),
      refs,
    );
    assert.deepEqual(
      sent.map((m) => textOf(m.body)),
      Array.from({ length: COUNT }, (_, i) => `offline ${i}`),
    );
    await until(() => received.length >= COUNT + 1, WAIT_MS, 'the peer gets them');
    await sleep(QUIET_MS);
    assert.deepEqual(
      received.map((m) => textOf(m.body)),
      ['before', ...Array.from({ length: COUNT }, (_, i) => `offline ${i}`)],
    );
    assert.deepEqual(second.pending(), []);
    assert.deepEqual(await new FileOutbox({ path: outboxPath }).load(), [], 'the file is empty');
    await killServeProcess(server);
  });
});
