// Proves that `npm start` (scripts/start.mjs) builds only when a source changed since the last
// build, that starts racing on one checkout build once, and that a second start of a built tree
// serves without building: on trees in temporary directories, with real processes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RUN_TIMEOUT_MS = 120_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node scripts/start.mjs args` in `root` until it exits (the stub server exits at once). */
function start(root: string, args: readonly string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/start.mjs', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// A tree with the real scripts/build.mjs and start.mjs, whose build steps are a stand-in that
// records each run and takes a moment (so that racing starts overlap), and whose "server"
// prints its arguments and ends.
const STUB_BUILD = `
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
const step = process.argv[2];
await new Promise((resolve) => setTimeout(resolve, 400));
appendFileSync('builds.log', step + '\\n');
if (step === 'server') {
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/main.js',
    'export async function runCli(argv) { console.log("served " + argv.join(" ")); return 0; }\\n');
} else {
  mkdirSync('web/dist', { recursive: true });
  writeFileSync('web/dist/index.html', '<!doctype html>');
}
`;

function stubTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'parley-start-'));
  mkdirSync(join(root, 'scripts'));
  for (const f of ['build.mjs', 'start.mjs'])
    cpSync(join(REPO, 'scripts', f), join(root, 'scripts', f));
  writeFileSync(join(root, 'stub-build.mjs'), STUB_BUILD);
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({
      type: 'module',
      scripts: {
        'build:server': 'node stub-build.mjs server',
        'build:web': 'node stub-build.mjs web',
      },
    }),
  );
  writeFileSync(join(root, 'tsconfig.json'), '{}');
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  mkdirSync(join(root, 'web'));
  writeFileSync(join(root, 'web', 'index.html'), '<!doctype html>');
  return root;
}

const builds = (root: string) => readFileSync(join(root, 'builds.log'), 'utf8').trim().split('\n');
const stamp = (root: string) => readFileSync(join(root, 'dist', '.build-stamp'), 'utf8');

describe('npm start builds only what changed since the last build', () => {
  const trees: string[] = [];
  const tree = () => {
    const root = stubTree();
    trees.push(root);
    return root;
  };
  after(() => {
    for (const root of trees) rmSync(root, { recursive: true, force: true });
  });

  it('builds a fresh tree, then serves without building until a source changes', async () => {
    const root = tree();
    const first = await start(root, ['--port', '1']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /parley: building \(dist\/main\.js is missing\)/);
    assert.equal(first.stdout, 'served serve --port 1\n');
    assert.deepEqual(builds(root), ['server', 'web']);
    const built = stamp(root);

    const second = await start(root);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stderr, '', 'no build, no waiting');
    assert.equal(second.stdout, 'served serve\n');
    assert.deepEqual(builds(root), ['server', 'web']);
    assert.equal(stamp(root), built);

    // A test file is outside the build (tsconfig.json excludes it): still nothing to build.
    writeFileSync(join(root, 'src', 'a.test.ts'), 'export {};\n');
    assert.equal((await start(root)).stderr, '');

    writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 2;\n');
    const third = await start(root);
    assert.match(third.stderr, /parley: building \(sources changed since the last build\)/);
    assert.deepEqual(builds(root), ['server', 'web', 'server', 'web']);
  });

  it('builds again when a source is removed or put back with an older mtime', async () => {
    const root = tree();
    writeFileSync(join(root, 'src', 'b.ts'), 'export const b = 1;\n');
    assert.equal((await start(root)).code, 0);
    rmSync(join(root, 'src', 'b.ts'));
    assert.match((await start(root)).stderr, /sources changed/);
    const old = new Date(Date.now() - 86_400_000);
    // Same size, older mtime: only the mtime tells it apart.
    writeFileSync(join(root, 'web', 'index.html'), '<!DOCTYPE html>');
    spawnSync('touch', ['-d', old.toISOString(), join(root, 'web', 'index.html')]);
    assert.match((await start(root)).stderr, /sources changed/);
    assert.equal(builds(root).length, 6);
  });

  it('builds once when starts race on a stale tree', async () => {
    const root = tree();
    const runs = await Promise.all([start(root), start(root), start(root)]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(builds(root), ['server', 'web']);
    assert.equal(runs.filter((r) => r.stderr.includes('parley: building')).length, 1);
  });

  it('takes over the lock of a build that died', async () => {
    const root = tree();
    mkdirSync(join(root, 'dist'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(join(root, 'dist', '.build-lock'), dead.stdout);
    const run = await start(root);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(builds(root), ['server', 'web']);
  });
});

/** A copy of what `npm start` reads, with the repository's node_modules. */
function sourceCopy(): string {
  const root = mkdtempSync(join(tmpdir(), 'parley-built-'));
  for (const p of ['bin', 'proto', 'scripts', 'src', 'web']) {
    cpSync(join(REPO, p), join(root, p), {
      recursive: true,
      filter: (src) => !/[/\\](dist|node_modules)$/.test(src),
    });
  }
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json']) {
    cpSync(join(REPO, f), join(root, f));
  }
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

/** Starts the real server through `npm start`'s script; resolves at "parley listening". */
function serveOnce(root: string, dataDir: string): Promise<{ stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['scripts/start.mjs', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
      { cwd: root, env: { ...process.env, PARLEY_LOG_LEVEL: 'info' } },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (stdout.includes('"msg":"parley listening"')) child.kill('SIGTERM');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (stdout.includes('"msg":"parley listening"')) resolve({ stderr });
      else reject(new Error(`exited (${signal ?? code}) before listening:\n${stderr}`));
    });
  });
}

describe('a second npm start of a built tree', () => {
  let root: string;
  before(() => {
    root = sourceCopy();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('serves without building: no build step runs, the stamp and the output untouched', async () => {
    const data = join(root, 'data');
    const first = await serveOnce(root, data);
    assert.match(first.stderr, /parley: building/);
    const builtStamp = statSync(join(root, 'dist', '.build-stamp'));
    const builtMain = statSync(join(root, 'dist', 'main.js'));
    const second = await serveOnce(root, data);
    assert.doesNotMatch(second.stderr, /building/);
    const stampNow = statSync(join(root, 'dist', '.build-stamp'));
    assert.equal(stampNow.mtimeMs, builtStamp.mtimeMs);
    assert.equal(statSync(join(root, 'dist', 'main.js')).mtimeMs, builtMain.mtimeMs);
  });
});
