// Proves that the environment and flags become one validated, deep-frozen Config, that every bad value is reported at once by name, and that the real `parley` CLI prints usage and refuses bad flags cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DEFAULT_LIMITS } from '../core/limits.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI_TIMEOUT_MS = 30_000;

function problemsOf(env: NodeJS.ProcessEnv, flags: Record<string, string> = {}): string[] {
  try {
    loadConfig(env, flags);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return [...err.problems];
  }
  assert.fail('loadConfig accepted a bad configuration');
}

function assertDeepFrozen(value: unknown, path: string): void {
  if (value === null || typeof value !== 'object') return;
  assert.ok(Object.isFrozen(value), `${path} is not frozen`);
  for (const [key, child] of Object.entries(value)) assertDeepFrozen(child, `${path}.${key}`);
}

describe('loadConfig', () => {
  it('applies the defaults to an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.http.port, 8080);
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.http.seedApi, 'auth');
    assert.equal(config.log.level, 'info');
    assert.equal(config.store.kind, 'sqlite');
    assert.equal(config.store.dataDir, resolve('./data'));
    assert.equal(config.store.file, resolve('./data', 'parley.db'));
    assert.equal(config.store.synchronous, 'normal');
    assert.deepEqual(config.limits, DEFAULT_LIMITS);
    assert.match(config.node.id, /^node-[0-9a-f]{8}$/);
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ PARLEY_PORT: '', PARLEY_SEED_API: '' });
    assert.equal(config.http.port, 8080);
    assert.equal(config.http.seedApi, 'auth');
  });

  it('applies environment variables', () => {
    const config = loadConfig({
      PARLEY_PORT: '9090',
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: '/tmp/parley-config-test',
      PARLEY_SEED_API: 'open',
      PARLEY_LOG_LEVEL: 'debug',
      PARLEY_NODE_ID: 'node-a',
      PARLEY_SQLITE_SYNCHRONOUS: 'full',
      PARLEY_MESSAGE_BODY_BYTES_MAX: '1024',
      PARLEY_PULL_COUNT_MAX: '50',
    });
    assert.equal(config.http.port, 9090);
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.store.kind, 'sqlite');
    if (config.store.kind !== 'sqlite') return;
    assert.equal(config.store.dataDir, '/tmp/parley-config-test');
    assert.equal(config.store.file, '/tmp/parley-config-test/parley.db');
    assert.equal(config.http.seedApi, 'open');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.node.id, 'node-a');
    assert.equal(config.store.synchronous, 'full');
    assert.equal(config.limits.messageBodyBytesMax, 1024);
    assert.equal(config.limits.pullCountMax, 50);
    assert.equal(config.limits.textCharsMax, DEFAULT_LIMITS.textCharsMax);
  });

  it('reads the contact, profile and message-action limits from PARLEY_* settings', () => {
    const config = loadConfig({
      PARLEY_CONTACT_NOTE_CHARS_MAX: '40',
      PARLEY_CONTACT_PAGE_COUNT_MAX: '30',
      PARLEY_DISPLAY_NAME_CHARS_MAX: '20',
      PARLEY_BIO_CHARS_MAX: '100',
      PARLEY_USER_SEARCH_COUNT_MAX: '5',
      PARLEY_EDIT_WINDOW_MS: '60000',
      PARLEY_REACTION_CHARS_MAX: '8',
      PARLEY_REACTIONS_PER_USER_MAX: '3',
      PARLEY_PINS_MAX: '7',
      PARLEY_PREVIEW_CHARS_MAX: '80',
    });
    const { limits } = config;
    assert.deepEqual(
      [limits.contactNoteCharsMax, limits.contactPageCountMax, limits.displayNameCharsMax],
      [40, 30, 20],
    );
    assert.deepEqual([limits.bioCharsMax, limits.userSearchCountMax], [100, 5]);
    assert.deepEqual(
      [limits.editWindowMs, limits.reactionCharsMax, limits.reactionsPerUserMax],
      [60_000, 8, 3],
    );
    assert.deepEqual([limits.pinsMax, limits.previewCharsMax], [7, 80]);
    assert.throws(
      () => loadConfig({ PARLEY_BIO_CHARS_MAX: '0', PARLEY_PINS_MAX: 'many' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 2 &&
        err.problems.some((p) => p.startsWith('PARLEY_BIO_CHARS_MAX')),
    );
  });

  it('lets a flag win over the environment', () => {
    const config = loadConfig(
      { PARLEY_PORT: '9090', PARLEY_SEED_API: 'auth', PARLEY_LOG_LEVEL: 'warn' },
      { port: '7070', 'seed-api': 'open' },
    );
    assert.equal(config.http.port, 7070);
    assert.equal(config.http.seedApi, 'open');
    assert.equal(config.log.level, 'warn');
    assert.deepEqual(problemsOf({ PARLEY_PORT: '9090' }, { port: 'abc' }), [
      '--port: expected an integer from 0 to 65535, got "abc"',
    ]);
    assert.equal(loadConfig({ PARLEY_PORT: 'abc' }, { port: '1' }).http.port, 1);
  });

  it('does not let an empty flag silently replace the environment with the default', () => {
    let port: number | undefined;
    try {
      port = loadConfig({ PARLEY_PORT: '9090' }, { port: '' }).http.port;
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /--port/);
      return;
    }
    assert.equal(port, 9090);
  });

  const bad: [string, string][] = [
    ['PARLEY_PORT', 'abc'],
    ['PARLEY_PORT', '70000'],
    ['PARLEY_PORT', '-1'],
    ['PARLEY_PORT', '80.5'],
    ['PARLEY_SEED_API', 'maybe'],
    ['PARLEY_LOG_LEVEL', 'loud'],
    ['PARLEY_MESSAGE_BODY_BYTES_MAX', '0'],
    ['PARLEY_SQLITE_SYNCHRONOUS', 'sometimes'],
  ];
  for (const [name, value] of bad) {
    it(`reports ${name}=${value} with the variable name and the value`, () => {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1);
      assert.ok(problems[0]!.startsWith(`${name}: expected `), problems[0]);
      assert.ok(problems[0]!.includes(JSON.stringify(value)), problems[0]);
    });
  }

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PARLEY_PORT: 'abc',
        PARLEY_SEED_API: 'maybe',
        PARLEY_LOG_LEVEL: 'loud',
        PARLEY_MESSAGE_BODY_BYTES_MAX: '0',
        PARLEY_HOST: '127.0.0.1',
      });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [
      'PARLEY_PORT: expected an integer from 0 to 65535, got "abc"',
      'PARLEY_SEED_API: expected one of open, auth, got "maybe"',
      'PARLEY_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'PARLEY_MESSAGE_BODY_BYTES_MAX: expected an integer from 1 to 16777216, got "0"',
    ]);
    for (const problem of error.problems) assert.ok(error.message.includes(problem));
  });

  it('returns a deep-frozen Config', () => {
    const config: Config = loadConfig({ PARLEY_PORT: '9090' });
    assertDeepFrozen(config, 'config');
    assert.throws(() => {
      (config.http as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.limits as { pullCountMax: number }).pullCountMax = 1;
    }, TypeError);
    assert.equal(config.http.port, 9090);
    // Freezing a Config must not freeze the shared defaults it was built from, or vice versa.
    assert.notEqual(config.limits, DEFAULT_LIMITS);
  });
});

/** Runs the real CLI through tsx; resolves with its exit code and output. */
function runCli(
  args: readonly string[],
  parleyEnv: Readonly<Record<string, string>> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  Object.assign(env, parleyEnv);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parley ${args.join(' ')} did not exit in ${CLI_TIMEOUT_MS} ms`));
    }, CLI_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

describe('the parley CLI', () => {
  it('prints usage for --help and exits 0', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Usage: parley/);
    assert.match(stdout, /\bserve\b/);
    assert.match(stdout, /PARLEY_PORT/);
    assert.match(stdout, /--port/);
    assert.equal(stderr, '');
  });

  it('refuses serve --port abc with exit 2, naming --port and printing no stack', async () => {
    const { code, stdout, stderr } = await runCli(['serve', '--port', 'abc']);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /--port: expected an integer from 0 to 65535, got "abc"/);
    assert.doesNotMatch(stderr, /^\s+at /m);
    assert.doesNotMatch(stderr, /ConfigError/);
    assert.equal(stdout, '');
  });

  it('refuses an unknown flag with exit 2 and the usage', async () => {
    const { code, stderr } = await runCli(['serve', '--no-such-flag']);
    assert.equal(code, 2);
    assert.match(stderr, /no-such-flag/);
    assert.match(stderr, /Usage: parley/);
    assert.doesNotMatch(stderr, /^\s+at /m);
  });
});

describe('cluster and secret settings', () => {
  it('reports a bad credential-bearing value without printing it', () => {
    const problems = problemsOf({ PARLEY_DATABASE_URL: 'mysql://admin:hunter2@db/parley' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /PARLEY_DATABASE_URL/);
    assert.doesNotMatch(problems[0]!, /hunter2/);
  });

  it('refuses Redis without PostgreSQL: nodes would each keep their own SQLite truth', () => {
    const problems = problemsOf({ PARLEY_REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.deepEqual(problems, ['PARLEY_REDIS_URL: needs PARLEY_DATABASE_URL (cluster mode)']);
  });

  it('selects the cluster shape with both URLs', () => {
    const config = loadConfig({
      PARLEY_DATABASE_URL: 'postgres://p@127.0.0.1/parley',
      PARLEY_REDIS_URL: 'redis://127.0.0.1:6379',
      PARLEY_BLOB_DIR_SHARED: 'true',
    });
    assert.equal(config.store.kind, 'postgres');
    assert.equal(config.redis?.url, 'redis://127.0.0.1:6379');
  });
});

describe('blob storage in a cluster', () => {
  const CLUSTER = {
    PARLEY_DATABASE_URL: 'postgres://p@127.0.0.1/parley',
    PARLEY_REDIS_URL: 'redis://127.0.0.1:6379',
    PARLEY_DATA_DIR: '/srv/parley',
  };

  it('refuses the filesystem store on a cluster node, in one line naming both ways out', () => {
    const problems = problemsOf(CLUSTER);
    assert.equal(problems.length, 1, problems.join('\n'));
    const [line] = problems;
    assert.doesNotMatch(line!, /\n/);
    assert.match(line!, /^PARLEY_BLOB_STORE: fs keeps attachments in \/srv\/parley\/blobs\b/);
    assert.match(line!, /PARLEY_BLOB_STORE=s3 with PARLEY_S3_BUCKET/);
    assert.match(line!, /PARLEY_BLOB_DIR_SHARED=true/);
  });

  it('starts a cluster node on the filesystem store once the directory is declared shared', () => {
    const config = loadConfig({ ...CLUSTER, PARLEY_BLOB_DIR_SHARED: 'true' });
    assert.deepEqual(config.attachments.blobStore, {
      kind: 'fs',
      dir: '/srv/parley/blobs',
      shared: true,
    });
  });

  it('starts a cluster node on S3 without the shared setting', () => {
    const config = loadConfig({
      ...CLUSTER,
      PARLEY_BLOB_STORE: 's3',
      PARLEY_S3_ENDPOINT: 'http://minio:9000',
      PARLEY_S3_BUCKET: 'parley-attachments',
    });
    assert.equal(config.attachments.blobStore.kind, 's3');
  });

  it('leaves a single node and an http-role node alone: neither shares blobs', () => {
    const single = loadConfig({ PARLEY_DATA_DIR: '/srv/parley' });
    assert.deepEqual(single.attachments.blobStore, {
      kind: 'fs',
      dir: '/srv/parley/blobs',
      shared: false,
    });
    const httpRole = loadConfig({
      ...CLUSTER,
      PARLEY_ROLE: 'http',
      PARLEY_RPC_TARGET: '127.0.0.1:9090',
      PARLEY_GRPC_TOKEN: 'a-service-token-of-24ch',
    });
    assert.equal(httpRole.role.kind, 'http');
  });

  it('accepts only true or false for the shared setting', () => {
    const problems = problemsOf({ ...CLUSTER, PARLEY_BLOB_DIR_SHARED: 'yes' });
    assert.ok(
      problems.includes('PARLEY_BLOB_DIR_SHARED: expected true or false, got "yes"'),
      problems.join('\n'),
    );
  });

  it('makes `parley serve` exit 2 before connecting anywhere, and --help lists the setting', async () => {
    const refused = await runCli(['serve'], CLUSTER);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(
      refused.stderr.split('\n').filter((l) => l.includes('PARLEY_BLOB_STORE: fs keeps')).length,
      1,
      refused.stderr,
    );
    assert.match(refused.stderr, /PARLEY_BLOB_DIR_SHARED=true/);
    assert.doesNotMatch(refused.stderr, /^\s+at /m);
    const help = await runCli(['--help']);
    assert.match(help.stdout, /--blob-dir-shared +PARLEY_BLOB_DIR_SHARED /);
  });
});
