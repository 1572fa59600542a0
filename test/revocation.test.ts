// Every way a session ends closes the live links that use it, within 2 s, on every deployment
// shape (docs/security.md, "Sessions"): logout, a new login of the same device, revoking the
// device, a password change, account deletion, expiry, and the admin CLI's disable and
// reset-password, which run in another process. Embedded: a real `parley serve` process and the
// real CLI on its SQLite file. Cluster: a link on one node, the session ended through another
// node or by the CLI against PostgreSQL alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCode } from '../src/protocol/index.js';
import { runCli } from '../src/test-support/cli-process.js';
import {
  cleanupServeProcesses,
  freshDir,
  startServeProcess,
  type ServerProcess,
} from '../src/test-support/serve-process.js';
import { http, register } from '../src/test-support/server.js';
import { RtClient } from '../src/test-support/rt-client.js';
import { sleep, withTimeout } from '../src/test-support/wait.js';
import { clusterSkip, startCluster, type TestCluster } from './cluster-harness.js';

const PASSWORD = 'correct horse battery';
const CLOSE_BOUND_MS = 2_000;

interface Account {
  readonly username: string;
  readonly token: string;
  readonly device: string;
}

const wsOf = (url: string) => url.replace(/^http/, 'ws') + '/ws';

async function account(url: string, username: string, device = 'd1'): Promise<Account> {
  const r = await register(url, username, PASSWORD, device);
  return { username, token: r.token, device: r.device };
}

async function login(url: string, username: string, device: string, password = PASSWORD) {
  const res = await http('POST', `${url}/v1/auth/login`, { body: { username, password, device } });
  assert.equal(res.status, 200, res.text);
  return { username, token: res.json.token as string, device };
}

async function link(url: string, a: Account): Promise<RtClient> {
  return RtClient.connect({ wsUrl: wsOf(url), tcpPort: null }, 'ws-json', a.token, a.device);
}

/** The link closes with 4401 within the bound, after an `unauthenticated` error frame. */
async function closesSoon(client: RtClient, what: string): Promise<void> {
  const code = await withTimeout(client.closed, CLOSE_BOUND_MS, `${what}: the live link closes`);
  assert.equal(code, CloseCode.unauthenticated, `${what}: close code`);
  const last = client.frames[client.frames.length - 1];
  assert.equal(last?.code, 'unauthenticated', `${what}: last frame ${JSON.stringify(last)}`);
}

/** Ways a session ends through the API: [name, act(url, account) returning the link(s) kept]. */
function apiEndings(): [string, (url: string, a: Account) => Promise<void>][] {
  return [
    ['logout', (url, a) => http('POST', `${url}/v1/auth/logout`, { token: a.token }).then(ok)],
    [
      'login again on the device',
      (url, a) => login(url, a.username, a.device).then(() => undefined),
    ],
    [
      'revoke the device from another',
      async (url, a) => {
        const other = await login(url, a.username, 'other');
        await http('DELETE', `${url}/v1/me/sessions/${a.device}`, { token: other.token }).then(ok);
      },
    ],
    [
      'password change on another device',
      async (url, a) => {
        const other = await login(url, a.username, 'other');
        const body = { currentPassword: PASSWORD, newPassword: 'another secret 42' };
        await http('POST', `${url}/v1/me/password`, { token: other.token, body }).then(ok);
      },
    ],
    [
      'account deletion',
      (url, a) =>
        http('DELETE', `${url}/v1/me`, { token: a.token, body: { password: PASSWORD } }).then(ok),
    ],
  ];
}

function ok(res: { status: number; text: string }): void {
  assert.ok(res.status >= 200 && res.status < 300, `${res.status} ${res.text}`);
}

describe('session endings close live links: embedded', () => {
  let server: ServerProcess;
  let dataDir: string;
  const clients: RtClient[] = [];
  before(async () => {
    dataDir = freshDir('parley-revoke-');
    server = await startServeProcess(dataDir);
  });
  after(async () => {
    for (const c of clients) c.drop();
    await cleanupServeProcesses();
  });

  let n = 0;
  for (const [name, act] of apiEndings()) {
    it(name, async () => {
      const a = await account(server.url, `emb${++n}`);
      const client = await link(server.url, a);
      clients.push(client);
      await act(server.url, a);
      await closesSoon(client, name);
    });
  }

  it('a new login of the device closes the old token’s link, not the new one', async () => {
    const a = await account(server.url, 'relogin');
    const old = await link(server.url, a);
    const fresh = await login(server.url, a.username, a.device);
    await closesSoon(old, 'old token');
    const next = await link(server.url, fresh);
    clients.push(old, next);
    await sleep(1_500); // several watch intervals: the new link must survive them
    const pong = await next.request({ type: 'ping' });
    assert.equal(pong.type, 'pong');
  });

  for (const command of [
    ['user', 'disable'],
    ['user', 'reset-password'],
  ] as const) {
    it(`parley ${command.join(' ')} (another process)`, async () => {
      const a = await account(server.url, `cli${++n}`);
      const client = await link(server.url, a);
      clients.push(client);
      const result = await runCli([...command, a.username], {
        env: { PARLEY_DATA_DIR: dataDir },
        stdin: 'a new secret 42\n',
      });
      assert.equal(result.code, 0, result.stderr);
      await closesSoon(client, command.join(' '));
    });
  }
});

describe('session endings close live links: expiry', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServeProcess(freshDir('parley-expiry-'), {
      PARLEY_SESSION_IDLE_MS: '1500',
    });
  });
  after(cleanupServeProcesses);

  it('an expired session, found expired anywhere, closes its link', async () => {
    const a = await account(server.url, 'idle');
    const client = await link(server.url, a);
    await sleep(2_000);
    const res = await http('GET', `${server.url}/v1/me`, { token: a.token });
    assert.equal(res.status, 401, res.text);
    try {
      await closesSoon(client, 'expiry');
    } finally {
      client.drop();
    }
  });
});

describe('session endings close live links: cluster', { skip: clusterSkip() }, () => {
  let cluster: TestCluster;
  const clients: RtClient[] = [];
  before(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  after(async () => {
    for (const c of clients) c.drop();
    await cluster?.close();
  });

  let n = 0;
  for (const [name, act] of apiEndings()) {
    it(`${name}, through the other node`, async () => {
      const [one, two] = cluster.nodes;
      const a = await account(one!.url, `clu${++n}`);
      const client = await link(one!.url, a);
      clients.push(client);
      await act(two!.url, a);
      await closesSoon(client, name);
    });
  }

  it('parley user disable against PostgreSQL alone (no bus message)', async () => {
    const a = await account(cluster.nodes[0]!.url, 'cludisable');
    const client = await link(cluster.nodes[0]!.url, a);
    clients.push(client);
    const result = await runCli(['user', 'disable', a.username], {
      env: { PARLEY_DATABASE_URL: cluster.databaseUrl },
    });
    assert.equal(result.code, 0, result.stderr);
    await closesSoon(client, 'disable');
  });
});
