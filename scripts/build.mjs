// Builds the server (tsc → dist/) and the web client (vite → web/dist/), one build at a time per
// checkout, and records what it built from. `npm run build` always builds; `npm start`
// (scripts/start.mjs) builds only when a source changed since the last build, so a second start
// costs a few milliseconds of stat() instead of a 10–25 s build (docs/decisions/0073).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the build reads. tsconfig.json's excludes (tests, test helpers) cannot change it. */
const SOURCES = ['src', 'web', 'tsconfig.json', 'package.json', 'package-lock.json'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'test-support']);
const SKIPPED_FILE = /\.(test|contract)\.ts$/;
/** Without these there is nothing to run, whatever the stamp says. */
const OUTPUTS = ['dist/main.js', 'web/dist/index.html'];
const STAMP = 'dist/.build-stamp';
const LOCK = 'dist/.build-lock';
/** package.json's build:server keeps tsc's incremental state here. */
const TSBUILDINFO = 'dist/.tsbuildinfo';
const LOCK_POLL_MS = 250;
const EMPTY_LOCK_STALE_MS = 5_000;

/**
 * A digest of every source's path, size and mtime. A changed, added or removed file changes
 * it, and so does one put back with an older mtime (a checkout, `cp -p`), which a bare
 * "newest mtime" comparison would miss.
 */
export function sourceFingerprint(root) {
  const lines = [];
  const visit = (rel) => {
    let stat;
    try {
      stat = statSync(join(root, rel));
    } catch (err) {
      if (err.code === 'ENOENT') return;
      throw err;
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(join(root, rel))) {
        if (!SKIPPED_DIRS.has(name)) visit(join(rel, name));
      }
    } else if (!SKIPPED_FILE.test(rel)) {
      lines.push(`${rel}\0${stat.size}\0${stat.mtimeMs}`);
    }
  };
  for (const source of SOURCES) visit(source);
  return createHash('sha256').update(lines.sort().join('\n')).digest('hex');
}

/** Why the tree needs a build (one phrase), or null when the last build is current. */
export function staleReason(root) {
  const missing = OUTPUTS.find((out) => !existsSync(join(root, out)));
  if (missing) return `${missing} is missing`;
  let stamp;
  try {
    stamp = readFileSync(join(root, STAMP), 'utf8').trim();
  } catch (err) {
    if (err.code === 'ENOENT') return 'no record of the last build';
    throw err;
  }
  return stamp === sourceFingerprint(root) ? null : 'sources changed since the last build';
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, under another user.
    return err.code === 'EPERM';
  }
}

/** The lock's holder: its pid, 'dead', or 'gone' (released since). */
function lockHolder(lock) {
  let text;
  try {
    text = readFileSync(lock, 'utf8').trim();
  } catch (err) {
    if (err.code === 'ENOENT') return 'gone';
    throw err;
  }
  const pid = Number(text);
  if (text !== '' && Number.isInteger(pid)) return pidAlive(pid) ? pid : 'dead';
  // Empty: being written this instant, or its writer died between creating and writing it.
  const stat = statSync(lock, { throwIfNoEntry: false });
  if (!stat) return 'gone';
  return Date.now() - stat.mtimeMs > EMPTY_LOCK_STALE_MS ? 'dead' : 'unknown';
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the checkout's build lock: a file created exclusively, holding the builder's pid. A
 * lock whose builder died (killed mid-build) is taken over; a live one is waited for.
 */
async function acquireLock(root) {
  const lock = join(root, LOCK);
  mkdirSync(dirname(lock), { recursive: true });
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = lockHolder(lock);
    if (holder === 'gone') continue;
    if (holder === 'dead') {
      rmSync(lock, { force: true });
      continue;
    }
    if (!told) {
      process.stderr.write(`parley: waiting for another build (pid ${holder}) to finish\n`);
      told = true;
    }
    await sleep(LOCK_POLL_MS);
  }
}

function run(root, script) {
  const done = spawnSync('npm', ['run', '--silent', script], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (done.status !== 0) throw new Error(`npm run ${script} failed (exit ${done.status})`);
}

/**
 * Builds under the lock. With `ifStale`, builds only when staleReason says so, checked again
 * once the lock is held: a start that waited on another's build finds it done and builds
 * nothing. Answers whether it built.
 */
export async function build(root, { ifStale = false } = {}) {
  if (ifStale && staleReason(root) === null) return false;
  const release = await acquireLock(root);
  try {
    const reason = staleReason(root);
    if (ifStale && reason === null) return false;
    process.stderr.write(`parley: building (${reason ?? 'npm run build'})\n`);
    // Taken before the build: a source edited during it makes the next start build again.
    const fingerprint = sourceFingerprint(root);
    rmSync(join(root, STAMP), { force: true });
    // tsc --incremental trusts its build info and would not emit outputs deleted since.
    if (!existsSync(join(root, OUTPUTS[0]))) rmSync(join(root, TSBUILDINFO), { force: true });
    run(root, 'build:server');
    run(root, 'build:web');
    writeFileSync(join(root, STAMP), fingerprint + '\n');
    return true;
  } finally {
    release();
  }
}

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await build(ROOT, { ifStale: process.argv.includes('--if-stale') });
  } catch (err) {
    process.stderr.write(`parley: ${err.message}\n`);
    process.exitCode = 1;
  }
}
