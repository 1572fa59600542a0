// Proves that the SDK's outbox survives a restart of the real server process (SIGKILL in the
// middle of a stream of sends, more sends while it is down, a start on the same SQLite data
// directory and port): every send is acknowledged once and delivered once, in order. And that a
// FileOutbox carries unsent messages across a restart of the client itself.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { sleep, withTimeout } from '../test-support/wait.js';
import { ParleyApi } from './api.js';
import { createClient, type ParleyClient } from './client.js';
import { FileOutbox } from './file-outbox.js';
import type { Message, SentMessage } from './types.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
const WAIT_MS = 30_000;
const QUIET_MS = 500;
const PASSWORD = 'correct horse battery';

interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly exited: Promise<void>;
}

const children = new Map<ChildProcess, Promise<void>>();
const dirs = new Set<string>();
const clients: ParleyClient[] = [];

/** Starts `parley serve` on `dataDir` (and `port`, 0 for any) and resolves once it listens. */
async function startServer(dataDir: string, port = 0): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...env,
      PARLEY_PORT: String(port),
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  children.set(child, exited);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: { msg?: unknown; port?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // Only pino lines are expected; the listening line is what matters.
      }
      if (entry.msg === 'parley listening' && typeof entry.port === 'number') resolve(entry.port);
    });
    void exited.then(() => reject(new Error(`server exited before listening:\n${stderr}`)));
  });
  try {
    const actual = await withTimeout(listening, START_TIMEOUT_MS, 'server start');
    return { child, port: actual, url: `http://127.0.0.1:${actual}`, exited };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

async function kill(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
  }
  await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit');
}

function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(10);
  }
}

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const [child, exited] of children) {
    child.kill('SIGKILL');
    await withTimeout(exited, EXIT_TIMEOUT_MS, 'server exit in cleanup');
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
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
    let server = await startServer(dataDir);
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
    await kill(server);
    await until(() => sender.state === 'reconnecting', WAIT_MS, 'the sender notices');

    // More sends while the server is down: they wait in the outbox.
    const DOWN = 40;
    for (let i = BEFORE; i < BEFORE + DOWN; i++) sends.push(send(i));
    await sleep(300);
    assert.ok(sender.pending().length >= DOWN, 'the sends made while down wait in the outbox');
    assert.notEqual(sender.state, 'online');

    server = await startServer(dataDir, port);
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
      received.map((m) => m.body.text),
      results.map((_, i) => `r ${i}`),
    );

    const stored: string[] = [];
    for (let pages = 0, afterSeq = 0; pages < 10; pages++) {
      const page = await bobApi.messages.history(conversation, { after: afterSeq, limit: 100 });
      stored.push(...page.messages.map((m) => String(m.body.text)));
      afterSeq = page.messages.at(-1)?.seq ?? afterSeq;
      if (!page.hasMore) break;
    }
    assert.equal(stored.length, total, 'the store holds each message once');
    assert.equal(new Set(stored).size, total);
    await kill(server);
  });

  it('keeps unsent messages in a FileOutbox across a restart of the client', async () => {
    const dataDir = freshDir('parley-sdk-client-restart-');
    const outboxPath = join(freshDir('parley-sdk-outbox-'), 'outbox.jsonl');
    let server = await startServer(dataDir);
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
    await kill(server);
    await until(() => first.state === 'reconnecting', WAIT_MS, 'the first client notices');
    const COUNT = 10;
    const doomed = Array.from({ length: COUNT }, (_, i) =>
      first.send(conversation, { kind: 'text', text: `offline ${i}` }),
    );
    await until(() => first.pending().length === COUNT, WAIT_MS, 'all stored');
    const refs = first.pending().map((e) => e.ref);
    await first.close();
    for (const p of doomed) await assert.rejects(p, { code: 'client_closed' });

    // A new process would do exactly this: a new client on the same outbox file.
    server = await startServer(dataDir, port);
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
      sent.map((m) => m.body.text),
      Array.from({ length: COUNT }, (_, i) => `offline ${i}`),
    );
    await until(() => received.length >= COUNT + 1, WAIT_MS, 'the peer gets them');
    await sleep(QUIET_MS);
    assert.deepEqual(
      received.map((m) => m.body.text),
      ['before', ...Array.from({ length: COUNT }, (_, i) => `offline ${i}`)],
    );
    assert.deepEqual(second.pending(), []);
    assert.deepEqual(await new FileOutbox({ path: outboxPath }).load(), [], 'the file is empty');
    await kill(server);
  });
});
