// Proves what a newcomer meets on a first run, with real processes: `parley` before any build
// says what to run; on a terminal (a pseudo-terminal from script(1)) the server prints a ready
// banner and readable logs, and JSON without one; a busy port and a wrong data directory give
// one line and a non-zero exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/test-support/cli-process.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const WAIT_MS = 60_000;
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-first-run-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function envWithout(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Runs `parley serve` until `until` shows in its output, then stops it with SIGTERM and waits
 * for its end. On a terminal it runs under script(1), in a process group of its own.
 */
function serve(
  dataDir: string,
  options: { tty: boolean; until: RegExp; env?: Record<string, string> },
): Promise<{ output: string; code: number | null }> {
  const argv = ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--host', '127.0.0.1'];
  const cmd = [process.execPath, ...argv, '--data-dir', dataDir];
  const child = options.tty
    ? spawn(SCRIPT!, ['-qfec', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], {
        cwd: REPO,
        env: envWithout(options.env ?? {}),
        detached: true,
      })
    : spawn(cmd[0]!, cmd.slice(1), { cwd: REPO, env: envWithout(options.env ?? {}) });
  let output = '';
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (options.tty) process.kill(-child.pid!, 'SIGTERM');
    else child.kill('SIGTERM');
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    output += c;
    if (options.until.test(output)) stop();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const timer = setTimeout(stop, WAIT_MS);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    }),
  );
}

describe('bin/parley.js before a build', () => {
  it('says to run npm run build, in one line, and exits non-zero', async () => {
    const root = join(tmp, 'unbuilt');
    mkdirSync(join(root, 'bin'), { recursive: true });
    cpSync(join(REPO, 'bin', 'parley.js'), join(root, 'bin', 'parley.js'));
    cpSync(join(REPO, 'package.json'), join(root, 'package.json'));
    const child = spawn(process.execPath, [join(root, 'bin', 'parley.js'), 'stats']);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /^parley: not built yet: run "npm run build" \(or "npm start"\)[^\n]*\n$/);
  });
});

describe('parley serve on a terminal', { skip: SCRIPT ? false : 'no script(1) for a pty' }, () => {
  it('prints the ready banner, with readable log lines and no JSON', async () => {
    const data = join(tmp, 'tty');
    const { output } = await serve(data, { tty: true, until: /Seed API mode:[^\n]*\n/ });
    const url = /Web client: +(http:\/\/127\.0\.0\.1:\d+)\/\r?\n/.exec(output)?.[1];
    assert.ok(url, output);
    assert.match(output, /Parley is ready/);
    assert.match(output, new RegExp(`API docs: +${url}/docs\\r?\\n`));
    assert.match(output, new RegExp(`Data: +${data}\\r?\\n`));
    assert.match(output, new RegExp(`Store: +SQLite, ${data}/parley\\.db\\r?\\n`));
    assert.match(output, /Seed API mode: +auth: bearer token/);
    assert.match(output, /INFO.*parley listening/);
    assert.doesNotMatch(output, /\{"level"/);
  });

  it('logs JSON on a terminal under PARLEY_LOG_FORMAT=json, banner still shown', async () => {
    const { output } = await serve(join(tmp, 'tty-json'), {
      tty: true,
      until: /Seed API mode:[^\n]*\n/,
      env: { PARLEY_LOG_FORMAT: 'json', PARLEY_SEED_API: 'open' },
    });
    assert.match(output, /\{"level":30,[^\n]*"msg":"parley listening"/);
    assert.match(output, /Seed API mode: +open: no token/);
  });
});

describe('parley serve without a terminal', () => {
  it('logs JSON lines only, with no banner', async () => {
    const { output, code } = await serve(join(tmp, 'pipe'), {
      tty: false,
      until: /"msg":"parley listening"/,
    });
    // Stopped by its SIGTERM handler, which is set up after the banner would have been printed.
    assert.equal(code, 0, output);
    assert.match(output, /"msg":"parley stopped"/);
    assert.doesNotMatch(output, /Parley is ready|Web client:/);
    for (const line of output.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  });
});

describe('parley serve on a busy port', () => {
  let held: Server;
  let port: number;
  before(async () => {
    held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    port = (held.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => held.close(() => resolve())));

  it('says so in one line naming the address and PARLEY_PORT, and exits 1', async () => {
    const run = await runCli(['serve', '--port', String(port), '--host', '127.0.0.1'], {
      env: { PARLEY_DATA_DIR: join(tmp, 'busy') },
    });
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      `parley: 127.0.0.1:${port} is already in use: stop what listens there, ` +
        'or set PARLEY_PORT (--port) to a free port\n',
    );
    assert.doesNotMatch(run.stdout + run.stderr, /EADDRINUSE|\n\s+at /);
  });
});

describe('parley stats on a wrong data directory', () => {
  it('refuses a directory that does not exist, in one line, creating nothing', async () => {
    const missing = join(tmp, 'no-such-dir');
    const run = await runCli(['stats', '--data-dir', missing]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^parley: no Parley database at [^\n]*no-such-dir\/parley\.db: [^\n]*\n$/,
    );
    assert.equal(existsSync(missing), false);
  });

  it('refuses a directory without a Parley database, leaving it empty', async () => {
    const empty = join(tmp, 'empty-dir');
    mkdirSync(empty);
    const run = await runCli(['stats', '--data-dir', empty]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^parley: no Parley database at [^\n]*empty-dir\/parley\.db: [^\n]*\n$/,
    );
    assert.deepEqual(readdirSync(empty), []);
  });
});
