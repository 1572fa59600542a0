// Proves the seeds' HTTP → RPC split: `parley serve --role http --rpc-target host:port` (the real
// CLI, as a child process) serves the seed HTTP API by forwarding to another node's IMService,
// and answers every request (successes, paging, refusals) exactly as a single node does: the
// same requests go to both, and the answers are compared status, type and body. Send times
// differ between two servers, so each is replaced by its rank among that server's sends. While the
// RPC target is down the node answers `unavailable` naming the unreachable target, and it serves
// again within a couple of seconds of the target's return, without a restart of its own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServeProcess, type ServeProcess } from '../test-support/cli-process.js';
import {
  cleanupServeProcesses,
  freshDir,
  killServeProcess,
  startServeProcess as startTarget,
} from '../test-support/serve-process.js';
import { freePort } from '../engines/index.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { sleep } from '../test-support/wait.js';

const TOKEN = 'split-service-token-0123456789';

interface Step {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Whose bearer token to send (auth mode), or a literal token. */
  readonly as?: string;
  readonly token?: string;
}

/** A step may depend on the answers this target gave so far (e.g. next_cursor). */
type Script = (Step | ((answers: readonly unknown[]) => Step))[];

interface Target {
  readonly url: string;
  /** username → token on this target (auth mode). */
  readonly tokens: Map<string, string>;
}

/** Runs the script against a target; returns comparable answers. */
async function play(target: Target, script: Script): Promise<unknown[]> {
  const answers: unknown[] = [];
  const jsonAnswers: unknown[] = [];
  const sendTimes: number[] = [];
  for (const entry of script) {
    const step = typeof entry === 'function' ? entry(jsonAnswers) : entry;
    const token = step.token ?? (step.as ? target.tokens.get(step.as) : undefined);
    const res = await http(step.method, `${target.url}${step.path}`, {
      ...(step.body !== undefined ? { body: step.body } : {}),
      ...(step.headers ? { headers: step.headers } : {}),
      ...(token !== undefined ? { token } : {}),
    });
    jsonAnswers.push(res.json);
    const sendTime = (res.json as { send_time?: unknown } | undefined)?.send_time;
    if (typeof sendTime === 'number') sendTimes.push(sendTime);
    answers.push({
      step: `${step.method} ${step.path}`,
      status: res.status,
      type: String(res.headers['content-type'] ?? ''),
      body: res.json === undefined ? res.text : ranked(res.json, sendTimes),
    });
  }
  return answers;
}

/** Replaces send times (and cursors equal to one) by their rank among this target's sends. */
function ranked(value: unknown, sendTimes: readonly number[]): unknown {
  if (Array.isArray(value)) return value.map((v) => ranked(v, sendTimes));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        (k === 'send_time' || k === 'next_cursor') && typeof v === 'number' && v !== 0
          ? `t${sendTimes.indexOf(v)}`
          : ranked(v, sendTimes),
      ]),
    );
  }
  return value;
}

const cursorOf = (answers: readonly unknown[], i: number): number =>
  (answers[i] as { next_cursor: number }).next_cursor;

const OPEN_SCRIPT: Script = [
  { method: 'GET', path: '/ping' },
  {
    method: 'POST',
    path: '/api/send',
    body: { chat: 'chatroom12345', text: 'hi guys! :) ', sender: 'kylie' },
  },
  {
    method: 'POST',
    path: '/api/send',
    body: { chat: 'chatroom12345', text: 'hello to everyone :) ', sender: 'jimmy' },
  },
  {
    method: 'POST',
    path: '/api/send',
    body: { chat: 'chatroom12345', text: 'hello from mary :) ', sender: 'mary' },
  },
  { method: 'POST', path: '/api/send', body: { Chat: 'a:b', Text: 'Hello World', Sender: 'a' } },
  {
    method: 'POST',
    path: '/api/send',
    body: '{"chat":"a:b","text":"curl -d form","sender":"b"}',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  {
    method: 'GET',
    path: '/api/pull',
    body: { chat: 'chatroom12345', cursor: 0, limit: 2, reverse: false },
  },
  (answers) => ({
    method: 'GET',
    path: '/api/pull',
    body: { chat: 'chatroom12345', cursor: cursorOf(answers, 6), limit: 2, reverse: false },
  }),
  { method: 'GET', path: '/api/pull?chat=a:b&limit=20&reverse=true' },
  { method: 'GET', path: '/api/pull?chat=chatroom12345&limit=0&reverse=1' },
  { method: 'GET', path: '/api/pull?chat=empty-room' },
  { method: 'POST', path: '/api/send', body: '{' },
  { method: 'POST', path: '/api/send', body: '[1]' },
  { method: 'POST', path: '/api/send', body: { chat: 'room', text: 5, sender: 'kylie' } },
  { method: 'POST', path: '/api/send', body: { chat: 'a:a', text: 'x', sender: 'a' } },
  { method: 'POST', path: '/api/send', body: { chat: 'a:b', text: 'x', sender: 'c' } },
  {
    method: 'POST',
    path: '/api/send',
    body: { chat: 'room', text: 'x'.repeat(20_000), sender: 'kylie' },
  },
  { method: 'GET', path: '/api/pull' },
  { method: 'GET', path: '/api/pull?chat=room&limit=abc' },
  { method: 'GET', path: '/api/pull?chat=room&reverse=maybe' },
  // Under /api, an unknown path is the JSON 404 on both (elsewhere a full node serves the web client).
  { method: 'GET', path: '/api/nope' },
];

const AUTH_SCRIPT: Script = [
  { method: 'POST', path: '/api/send', body: { chat: 'alice:bob', text: 'hi', sender: 'alice' } },
  {
    method: 'POST',
    path: '/api/send',
    token: 'pt_bogus',
    body: { chat: 'alice:bob', text: 'hi', sender: 'alice' },
  },
  { method: 'POST', path: '/api/send', token: 'pt_bogus', body: '{' },
  {
    method: 'POST',
    path: '/api/send',
    as: 'alice',
    body: { chat: 'alice:bob', text: 'hi', sender: 'bob' },
  },
  {
    method: 'POST',
    path: '/api/send',
    as: 'alice',
    body: { chat: 'alice:bob', text: 'hi bob', sender: 'alice' },
  },
  {
    method: 'POST',
    path: '/api/send',
    as: 'bob',
    body: { chat: 'alice:bob', text: 'hi alice', sender: 'bob' },
  },
  {
    method: 'POST',
    path: '/api/send',
    as: 'alice',
    body: { chat: 'lobby', text: 'anyone?', sender: 'alice' },
  },
  { method: 'GET', path: '/api/pull?chat=alice:bob', as: 'carol' },
  { method: 'GET', path: '/api/pull?chat=alice:bob&limit=1', as: 'bob' },
  { method: 'GET', path: '/api/pull', as: 'alice', body: { chat: 'alice:bob', reverse: true } },
  { method: 'GET', path: '/api/pull?chat=lobby', as: 'bob' },
  { method: 'GET', path: '/api/pull?chat=lobby', as: 'alice' },
];

async function tokensOn(url: string): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const name of ['alice', 'bob', 'carol']) tokens.set(name, (await register(url, name)).token);
  return tokens;
}

for (const mode of ['open', 'auth'] as const) {
  describe(`--role http forwarding (seed API ${mode})`, () => {
    let rpcNode: TestServer;
    let single: TestServer;
    let front: ServeProcess;
    let dataDir: string;
    before(async () => {
      rpcNode = await startTestServer({
        PARLEY_SEED_API: mode,
        PARLEY_GRPC_PORT: '0',
        PARLEY_GRPC_TOKEN: TOKEN,
      });
      single = await startTestServer({ PARLEY_SEED_API: mode });
      dataDir = mkdtempSync(join(tmpdir(), 'parley-front-'));
      front = await startServeProcess(
        // No store is opened on this node; the data dir only proves that nothing lands there.
        { PARLEY_SEED_API: mode, PARLEY_GRPC_TOKEN: TOKEN, PARLEY_DATA_DIR: dataDir },
        ['--role', 'http', '--rpc-target', `127.0.0.1:${rpcNode.grpcPort}`],
      );
    });
    after(async () => {
      await front?.kill();
      await single?.close();
      await rpcNode?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers the seed API exactly as a single node does', async () => {
      const script = mode === 'open' ? OPEN_SCRIPT : AUTH_SCRIPT;
      const frontTokens = mode === 'auth' ? await tokensOn(rpcNode.url) : new Map<string, string>();
      const singleTokens = mode === 'auth' ? await tokensOn(single.url) : new Map<string, string>();
      const viaFront = await play({ url: front.url, tokens: frontTokens }, script);
      const direct = await play({ url: single.url, tokens: singleTokens }, script);
      assert.deepEqual(viaFront, direct);
      // The script did succeed at something: the messages are on the RPC node.
      const stored = await http(
        'GET',
        `${rpcNode.url}/api/pull?chat=${mode === 'open' ? 'chatroom12345' : 'lobby'}`,
        {
          ...(mode === 'auth' ? { token: frontTokens.get('alice')! } : {}),
        },
      );
      assert.ok((stored.json as { messages: unknown[] }).messages.length > 0);
    });

    it('is ready while its RPC target answers', async () => {
      const res = await http<{ checks: Record<string, string> }>('GET', `${front.url}/readyz`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.checks, { rpc: 'ok' });
    });
  });
}

describe('--role http while its RPC target is down', () => {
  let front: ServeProcess | undefined;
  after(async () => {
    await front?.kill();
    await cleanupServeProcesses();
  });

  it('answers unavailable naming the unreachable target, and serves again once it is back', async () => {
    // Chosen up front: the restarted target must come back on the same port.
    const grpcPort = await freePort();
    const targetDir = freshDir('parley-rpc-target-');
    const targetEnv = {
      PARLEY_SEED_API: 'open',
      PARLEY_GRPC_PORT: String(grpcPort),
      PARLEY_GRPC_TOKEN: TOKEN,
    };
    let target = await startTarget(targetDir, targetEnv);
    front = await startServeProcess(
      { PARLEY_SEED_API: 'open', PARLEY_GRPC_TOKEN: TOKEN, PARLEY_DATA_DIR: freshDir('front-') },
      ['--role', 'http', '--rpc-target', `127.0.0.1:${grpcPort}`],
    );
    const send = (text: string) =>
      http('POST', `${front!.url}/api/send`, { body: { chat: 'room', text, sender: 'kylie' } });
    assert.equal((await send('before')).status, 200);

    await killServeProcess(target);
    // Down for a while, asked again and again, as a busy node would be: the reconnect backoff
    // grows meanwhile, and must stay short enough for a quick recovery.
    for (let i = 0; i < 8; i++) {
      const res = await send(`down ${i}`);
      assert.equal(res.status, 503, res.text);
      assert.equal(res.json.error.code, 'unavailable');
      assert.match(res.json.error.message, /RPC target .* unreachable/);
      assert.doesNotMatch(res.json.error.message, /shutting down/);
      await sleep(500);
    }
    assert.equal((await http('GET', `${front.url}/readyz`)).status, 503);

    target = await startTarget(targetDir, targetEnv);
    const backMs = Date.now();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await send('after')).status;
      if (status !== 200) await sleep(100);
    }
    const tookMs = Date.now() - backMs;
    assert.equal(status, 200, 'serves again without a restart');
    assert.ok(tookMs < 2_500, `serves again ${tookMs} ms after the target is back`);
    const page = await http('GET', `${front.url}/api/pull?chat=room&limit=5`);
    assert.deepEqual(
      page.json.messages.map((m: { text: string }) => m.text),
      ['after', 'before'],
    );
  });
});
