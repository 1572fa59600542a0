// Proves that the SDK is publish-ready as its own package: packages/sdk builds (ESM with .d.ts),
// `npm pack` makes a tarball with only the SDK's code in it, and `npm install <tarball>` in an
// empty folder installs no server dependency (only `ws`), after which a plain ESM script there
// imports `@parley/sdk` and `@parley/sdk/node`, registers, connects a client to a real server
// and sends a message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../src/test-support/server.js';

const run = promisify(execFile);
const PACKAGE = new URL('../packages/sdk/', import.meta.url).pathname;
const NPM_MS = 180_000;

/** The small program a user of the package would write, run as it is in the clean folder. */
const SCRIPT = `
import { createClient, ParleyApi, MemoryOutbox } from '@parley/sdk';
import { FileOutbox } from '@parley/sdk/node';

const url = process.env.PARLEY_URL;
const api = new ParleyApi({ url });
const a = await api.register({ username: 'pkg_ann', password: 'correct horse battery', device: 'pc' });
await new ParleyApi({ url }).register({ username: 'pkg_ben', password: 'correct horse battery' });
const client = createClient({ url, token: a.token, device: a.device, outbox: new MemoryOutbox() });
await client.connect();
const { id } = await client.api.conversations.openDirect('pkg_ben');
const sent = await client.send(id, { kind: 'text', text: 'from the package' });
await client.close();
console.log(JSON.stringify({
  state: client.state,
  seq: sent.seq,
  text: sent.body.kind === 'text' ? sent.body.text : null,
  fileOutbox: typeof FileOutbox,
}));
`;

describe('the SDK package', () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'parley-sdk-pkg-'));
  let tarball = '';

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    // The build is this test's, not the checkout's: leave no output behind.
    for (const out of ['dist', 'proto']) {
      rmSync(join(PACKAGE, out), { recursive: true, force: true });
    }
  });

  it('packs (building first) into a tarball of the SDK, its types, README and CHANGELOG', async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: PACKAGE,
      timeout: NPM_MS,
    });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    assert.ok(info);
    tarball = join(dir, info.filename);
    const files = info.files.map((f) => f.path);
    for (const f of [
      'dist/sdk/index.js',
      'dist/sdk/index.d.ts',
      'dist/sdk/node.js',
      'dist/sdk/node.d.ts',
      'proto/parley.proto',
      'README.md',
      'CHANGELOG.md',
      'package.json',
    ]) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    const tops = new Set(files.filter((f) => f.startsWith('dist/')).map((f) => f.split('/')[1]));
    assert.deepEqual([...tops].sort(), ['core', 'protocol', 'sdk'], 'no server code is packed');
  });

  it('installs in an empty folder with no server dependency, and runs there', async () => {
    assert.ok(tarball, 'the tarball was made');
    const app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: app,
      timeout: NPM_MS,
    });
    const installed = readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'));
    assert.deepEqual(installed.sort(), ['@parley', 'ws'], 'only the SDK and ws are installed');

    writeFileSync(join(app, 'main.js'), SCRIPT);
    const { stdout } = await run(process.execPath, ['main.js'], {
      cwd: app,
      env: { ...process.env, PARLEY_URL: server.url },
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(stdout), {
      state: 'closed',
      seq: 1,
      text: 'from the package',
      fileOutbox: 'function',
    });
  });
});
