// Proves that the README's tour works as written: each block tagged `<!-- tested: name -->` runs
// verbatim (the shell blocks in bash with the real curl, the WebSocket listener as a real Node
// script) against a real server, and the listener stays connected, and still receives, after two
// heartbeat timeouts.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../src/test-support/server.js';
import { sleep, until, withTimeout } from '../src/test-support/wait.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
// Short, so the test is quick, yet leaving a loaded machine 2 × this to answer a ping.
const HEARTBEAT_MS = 500;
/** The server closes a link that has said nothing for this long (docs/protocol.md, Heartbeats). */
const HEARTBEAT_TIMEOUT_MS = 3 * HEARTBEAT_MS;
const STEP_TIMEOUT_MS = 15_000;
/** The blocks this test runs, in the README's order; a tagged block not listed here fails it. */
const RUN = ['accounts', 'listen.mjs', 'listen', 'send', 'read'];

/** The fenced blocks of `markdown` that a `<!-- tested: name -->` line names, by name. */
function testedBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of markdown.matchAll(/<!-- tested: ([\w.-]+) -->\n+```\w*\n([\s\S]*?)\n```/g)) {
    blocks.set(m[1]!, m[2]!);
  }
  return blocks;
}

interface Shell {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** Runs `script` in bash with `set -euo pipefail`; resolves its stdout, rejects on a non-zero exit. */
function bash(script: string, shell: Shell): Promise<string> {
  const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], {
    cwd: shell.cwd,
    env: shell.env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<string>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`bash exited ${code}:\n${stderr}`)),
    ),
  );
  return withTimeout(done, STEP_TIMEOUT_MS, script).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
}

/** The listener's frames, from its `bob ← {json}` lines. */
function framesOf(lines: readonly string[]): any[] {
  return lines.filter((l) => l.startsWith('bob ← ')).map((l) => JSON.parse(l.slice(6)));
}

describe('the README tour', () => {
  const blocks = testedBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
  let server: TestServer;
  let work: string;
  let shell: Shell;
  let listener: ChildProcess | undefined;
  const listened: string[] = [];

  before(async () => {
    server = await startTestServer({ PARLEY_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) });
    work = mkdtempSync(join(tmpdir(), 'parley-readme-'));
    // The README talks to localhost:8080; curl's own config sends that to the test's server.
    writeFileSync(join(work, '.curlrc'), `connect-to = localhost:8080:127.0.0.1:${server.port}\n`);
    // listen.mjs imports `ws` as it would from the clone.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(work, 'node_modules'));
    const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
    shell = { cwd: work, env: { PATH: path, HOME: work, CURL_HOME: work } };
  });

  after(async () => {
    // The listener's bash leads its own process group, which holds `node listen.mjs` too.
    if (listener?.pid !== undefined && listener.exitCode === null) {
      process.kill(-listener.pid, 'SIGKILL');
    }
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('tags exactly the blocks this test runs', () => {
    assert.deepEqual([...blocks.keys()], RUN);
  });

  it('registers alice and bob and opens their conversation with curl', async () => {
    const out = await bash(
      `${blocks.get('accounts')}\nprintf '%s\\n' "$ALICE" "$BOB" "$CONV"`,
      shell,
    );
    const [alice, bob, conv] = out.trim().split('\n');
    assert.match(alice!, /^pt_/);
    assert.match(bob!, /^pt_/);
    assert.match(conv!, /^c/);
    shell = { ...shell, env: { ...shell.env, ALICE: alice, BOB: bob, CONV: conv } };
  });

  it('runs listen.mjs, which says hello and sends over the WebSocket', async () => {
    writeFileSync(join(work, 'listen.mjs'), blocks.get('listen.mjs')!);
    const env = { ...shell.env, WS_URL: server.wsUrl };
    listener = spawn('bash', ['-c', `${blocks.get('listen')}\nwait`], {
      cwd: work,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: listener.stdout! }).on('line', (line) => listened.push(line));
    await until(
      () => framesOf(listened).some((f) => f.type === 'sent'),
      STEP_TIMEOUT_MS,
      'the listener is welcomed and its "hi alice" acknowledged',
    );
    const sent = framesOf(listened).find((f) => f.type === 'sent');
    assert.equal(framesOf(listened)[0].type, 'welcome');
    assert.equal(sent.seq, 1);
    assert.equal(sent.ref, 'bob-1');
  });

  it('stays connected past two heartbeat timeouts, then still receives a curl send', async () => {
    await sleep(2 * HEARTBEAT_TIMEOUT_MS + HEARTBEAT_MS);
    assert.deepEqual(
      listened.filter((l) => !l.startsWith('bob ← ') || l.includes('"error"')),
      [],
      'the listener was not closed, and got no error',
    );
    assert.equal(listener!.exitCode, null);

    const sent = JSON.parse(await bash(blocks.get('send')!, shell));
    assert.equal(sent.seq, 2);
    assert.equal(sent.duplicate, false);
    await until(
      () => framesOf(listened).some((f) => f.type === 'message' && f.seq === 2),
      STEP_TIMEOUT_MS,
      "bob's listener receives alice's message",
    );
    const pushed = framesOf(listened).find((f) => f.type === 'message' && f.seq === 2);
    assert.deepEqual(pushed.body, { kind: 'text', text: 'hi bob' });
  });

  it('reads both messages back with curl, in seq order', async () => {
    const page = JSON.parse(await bash(blocks.get('read')!, shell));
    assert.deepEqual(
      page.messages.map((m: { seq: number; body: { text: string } }) => [m.seq, m.body.text]),
      [
        [1, 'hi alice'],
        [2, 'hi bob'],
      ],
    );
  });
});
