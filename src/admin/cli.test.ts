// Runs the real `parley` admin commands as child processes against the store a real server uses:
// migrate, user add / reset-password / disable / enable, and stats. Proves that a disabled
// account's tokens stop working at once and its logins are refused with account_disabled, that
// a reset password revokes the old tokens, that bad input changes nothing, that every command
// but migrate refuses a store holding no Parley database (creating nothing), and, in a cluster,
// that disabling closes the account's live connections on the nodes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeWithPostgresAndRedis } from '../test-support/backends.js';
import { RtClient } from '../test-support/rt-client.js';
import { http, register, startTestServer, type TestServer } from '../test-support/server.js';
import { withTimeout } from '../test-support/wait.js';
import { runCli } from '../test-support/cli-process.js';

const PASSWORD = 'correct horse battery';

const login = (url: string, username: string, password: string) =>
  http<{ token: string; error?: { code: string } }>('POST', `${url}/v1/auth/login`, {
    body: { username, password, device: 'laptop' },
  });

describe('parley admin commands (SQLite)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: TestServer;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-admin-cli-'));
    env = { PARLEY_DATA_DIR: dataDir };
  });
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrate applies the schema once, then has nothing to do', async () => {
    const first = await runCli(['migrate'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^applied 1 core$/m);
    assert.match(first.stdout, /^applied \d+ account disabling$/m);
    const version = /schema at version (\d+)/.exec(first.stdout)?.[1];
    assert.ok(version);
    const second = await runCli(['migrate'], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, `schema at version ${version} (nothing to apply)\n`);
  });

  it('user add reads the password from stdin; the account logs in on the server', async () => {
    const added = await runCli(['user', 'add', 'Alice'], { env, stdin: `${PASSWORD}\n` });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^added alice \(u[\w-]+\)$/m);
    assert.equal(added.stderr, '');
    server = await startTestServer({ PARLEY_DATA_DIR: dataDir });
    const res = await login(server.url, 'alice', PASSWORD);
    assert.equal(res.status, 200, res.text);
  });

  it('refuses bad input with a coded error and changes nothing', async () => {
    const before = JSON.parse((await runCli(['stats', '--json'], { env })).stdout) as {
      users: number;
    };
    const taken = await runCli(['user', 'add', 'alice'], { env, stdin: `${PASSWORD}\n` });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /^parley: username_taken: /);
    const short = await runCli(['user', 'add', 'bob'], { env, stdin: 'short\n' });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /^parley: invalid_password: /);
    const badName = await runCli(['user', 'add', 'no spaces'], { env, stdin: `${PASSWORD}\n` });
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /^parley: invalid_username: /);
    const unknown = await runCli(['user', 'disable', 'ghost'], { env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^parley: user_not_found: /);
    const usage = await runCli(['user', 'frobnicate', 'alice'], { env });
    assert.equal(usage.code, 2);
    const both = await runCli(['user', 'add', 'carl', '--password', PASSWORD, '--password-stdin'], {
      env,
    });
    assert.equal(both.code, 2);
    const after = JSON.parse((await runCli(['stats', '--json'], { env })).stdout) as {
      users: number;
    };
    assert.equal(after.users, before.users);
  });

  it('--password works and warns that it is visible', async () => {
    const added = await runCli(['user', 'add', 'bob', '--password', PASSWORD], { env });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /warning: --password is visible/);
    assert.equal((await login(server.url, 'bob', PASSWORD)).status, 200);
  });

  it('reset-password revokes the old tokens and changes the password', async () => {
    const old = (await login(server.url, 'alice', PASSWORD)).json.token;
    assert.equal((await http('GET', `${server.url}/v1/me`, { token: old })).status, 200);
    const reset = await runCli(['user', 'reset-password', 'alice'], {
      env,
      stdin: 'a new secret 42\n',
    });
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /password reset: alice; 1 session revoked/);
    assert.equal((await http('GET', `${server.url}/v1/me`, { token: old })).status, 401);
    assert.equal((await login(server.url, 'alice', PASSWORD)).status, 401);
    assert.equal((await login(server.url, 'alice', 'a new secret 42')).status, 200);
  });

  it('disable revokes the tokens and refuses logins with account_disabled; enable undoes it', async () => {
    const token = (await login(server.url, 'bob', PASSWORD)).json.token;
    const disabled = await runCli(['user', 'disable', 'bob'], { env });
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /disabled: bob; 1 session revoked/);
    const me = await http<{ error: { code: string } }>('GET', `${server.url}/v1/me`, { token });
    assert.equal(me.status, 401);
    assert.equal(me.json.error.code, 'unauthenticated');
    const refused = await login(server.url, 'bob', PASSWORD);
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error?.code, 'account_disabled');
    // A wrong password still says only that the credentials are wrong.
    const wrong = await login(server.url, 'bob', 'not the password');
    assert.equal(wrong.json.error?.code, 'invalid_credentials');
    const enabled = await runCli(['user', 'enable', 'bob'], { env });
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal((await login(server.url, 'bob', PASSWORD)).status, 200);
  });

  it('stats counts what the store holds', async () => {
    const carol = await register(server.url, 'carol');
    const opened = await http<{ id: string }>('POST', `${server.url}/v1/conversations`, {
      token: carol.token,
      body: { kind: 'direct', with: 'alice' },
    });
    for (const ref of ['s1', 's2']) {
      const sent = await http('POST', `${server.url}/v1/conversations/${opened.json.id}/messages`, {
        token: carol.token,
        body: { ref, body: { kind: 'text', text: 'hello' } },
      });
      assert.equal(sent.status, 201);
    }
    await runCli(['user', 'disable', 'carol'], { env });
    const json = await runCli(['stats', '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      users: 3,
      disabledUsers: 1,
      // alice's and bob's logins above; carol's went with the disable.
      sessions: 2,
      conversations: { direct: 1, group: 0, room: 0 },
      messages: 2,
      attachments: 0,
      attachmentBytes: 0,
      deletedUsers: 0,
      pushers: 0,
    });
    const text = await runCli(['stats'], { env });
    assert.match(text.stdout, /^users +3 \(1 disabled, 0 of them deleted\)$/m);
    assert.match(text.stdout, /^pushers +0$/m);
    assert.match(text.stdout, /^messages +2$/m);
  });
});

/** Asserts a refusal: exit 1, one line on stderr matching `reason`, nothing on stdout. */
function assertRefused(
  result: { code: number | null; stdout: string; stderr: string },
  reason: RegExp,
) {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, reason);
}

describe('parley admin commands on a store holding no Parley database', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'parley-admin-nodb-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('refuse a mistyped data directory, creating nothing, while migrate creates the database', async () => {
    const typo = join(root, 'dataa');
    const env = { PARLEY_DATA_DIR: typo };
    const missing = /^parley: no Parley database at .*dataa\/parley\.db: check PARLEY_DATA_DIR/;
    assertRefused(await runCli(['stats'], { env }), missing);
    assertRefused(await runCli(['stats', '--json'], { env }), missing);
    assertRefused(await runCli(['user', 'add', 'alice'], { env, stdin: `${PASSWORD}\n` }), missing);
    assertRefused(await runCli(['user', 'disable', 'alice'], { env }), missing);
    assertRefused(await runCli(['backup', join(root, 'copy')], { env }), missing);
    assert.equal(existsSync(typo), false, 'the mistyped directory was created');
    assert.equal(existsSync(join(root, 'copy')), false, 'the backup target was created');

    const migrated = await runCli(['migrate'], { env });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /^applied 1 core$/m);
    const stats = await runCli(['stats', '--json'], { env });
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal((JSON.parse(stats.stdout) as { users: number }).users, 0);
  });

  it('refuse a database file that is not Parley, and leave it as it was', async () => {
    const foreign = join(root, 'foreign');
    mkdirSync(foreign);
    const other = new Database(join(foreign, 'parley.db'));
    other.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)');
    other.close();
    assertRefused(
      await runCli(['stats'], { env: { PARLEY_DATA_DIR: foreign } }),
      /^parley: .*foreign\/parley\.db holds no Parley database: check PARLEY_DATA_DIR/,
    );
    const tables = new Database(join(foreign, 'parley.db'), { readonly: true });
    const names = tables
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .pluck()
      .all();
    tables.close();
    assert.deepEqual(names, ['notes'], 'no Parley table was added');

    const garbage = join(root, 'garbage');
    mkdirSync(garbage);
    writeFileSync(join(garbage, 'parley.db'), 'this is not a database, just text '.repeat(200));
    assertRefused(
      await runCli(['user', 'enable', 'alice'], { env: { PARLEY_DATA_DIR: garbage } }),
      /^parley: .*garbage\/parley\.db is not a Parley database/,
    );
    assert.deepEqual(readdirSync(garbage), ['parley.db']);
  });
});

describeWithPostgresAndRedis('parley admin commands (PostgreSQL and Redis)', (backends) => {
  it('refuses an empty PostgreSQL database until migrate creates the schema', async () => {
    const env = { PARLEY_DATABASE_URL: await backends().pg.createDatabase() };
    const refused = await runCli(['stats'], { env });
    assertRefused(refused, /^parley: the PostgreSQL database holds no Parley schema/);
    assert.equal(refused.stderr.includes(env.PARLEY_DATABASE_URL), false, 'the URL is printed');
    assertRefused(
      await runCli(['user', 'add', 'erin'], { env, stdin: `${PASSWORD}\n` }),
      /holds no Parley schema/,
    );
    assert.equal((await runCli(['migrate'], { env })).code, 0);
    assert.equal((await runCli(['stats'], { env })).code, 0);
  });

  it('adds a user in PostgreSQL, and disabling closes its live connection on a cluster node', async () => {
    const { pg, redis } = backends();
    const env = {
      PARLEY_DATABASE_URL: await pg.createDatabase(),
      PARLEY_REDIS_URL: redis.url,
      // A lone cluster node: no other node needs its attachment directory.
      PARLEY_BLOB_DIR_SHARED: 'true',
    };
    // A fresh database: only migrate creates the schema (the other commands refuse it).
    assert.equal((await runCli(['migrate'], { env })).code, 0);
    const added = await runCli(['user', 'add', 'dora'], { env, stdin: `${PASSWORD}\n` });
    assert.equal(added.code, 0, added.stderr);
    const node = await startTestServer(env);
    try {
      const session = await login(node.url, 'dora', PASSWORD);
      assert.equal(session.status, 200, session.text);
      const link = await RtClient.connect(node, 'ws-json', session.json.token, 'laptop');
      const disabled = await runCli(['user', 'disable', 'dora'], { env });
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.match(disabled.stdout, /live connections closed on every node/);
      assert.equal(await withTimeout(link.closed, 10_000, 'live link closed'), 4401);
      assert.equal((await login(node.url, 'dora', PASSWORD)).json.error?.code, 'account_disabled');
      const stats = JSON.parse((await runCli(['stats', '--json'], { env })).stdout) as {
        users: number;
        disabledUsers: number;
      };
      assert.equal(stats.users, 1);
      assert.equal(stats.disabledUsers, 1);
    } finally {
      await node.close();
    }
  });
});
